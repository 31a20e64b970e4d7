// Short names for the generated API types (schema.gen.ts comes from the backend's OpenAPI schema).
import type { components } from "./schema.gen";

type S = components["schemas"];
export type GraphDoc = S["Graph"];
export type GraphNodeDoc = S["Node"];
export type RunConfig = S["Run"];
export type OpInfo = S["OpInfo"];
export type PortInfo = S["PortInfo"];
export type OpsResponse = S["OpsResponse"];
export type NodeMeta = S["NodeMeta"];
export type GraphError = S["GraphError"];
export type ErrorResponse = S["ErrorResponse"];
export type ValidateResponse = S["ValidateResponse"];
export type InvalidGraph = S["InvalidGraph"];
/** POST /api/validate's answer: a graph without errors, or the errors it has (both 200). */
export type Validation = ValidateResponse | InvalidGraph;
export type EvaluateResponse = S["EvaluateResponse"];
export type NodeResult = S["NodeResult"];
export type TensorPayload = S["TensorPayload"];
export type TensorStats = S["TensorStats"];
export type GradContribution = S["GradContribution"];
export type SharedNode = S["SharedNode"];
export type Use = S["Use"];
export type RunInfo = S["RunInfo"];
export type ExampleSummary = S["ExampleSummary"];
export type Health = S["Health"];
export type AuthStatus = S["AuthStatus"];
export type BackwardGraph = S["BackwardGraph"];
export type AutogradNode = S["AutogradNode"];
export type SavedTensor = S["SavedTensor"];
export type Region = S["Region"];
export type RoomCreated = S["RoomCreated"];
