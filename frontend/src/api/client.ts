// Every request the editor makes. A failure becomes an ApiError with located errors, never an exception left loose.
import type {
  AuthStatus,
  BackwardGraph,
  ErrorResponse,
  EvaluateResponse,
  ExampleSummary,
  GradcheckResponse,
  GraphDoc,
  GraphError,
  Health,
  NodeMeta,
  OpsResponse,
  PerSampleResponse,
  ReceptiveFieldResponse,
  RoomCreated,
  Validation,
} from "./types";

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly errors: GraphError[] = [],
    readonly nodes: Record<string, NodeMeta> = {},
    /** A run that failed in backward, asked for the autograd graph: the graph as that pass found it. */
    readonly backwardGraph: BackwardGraph | null = null,
  ) {
    super(message);
  }
}

async function request<T>(path: string, init?: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError("The dagrad server cannot be reached. Is `dagrad serve` running?", 0);
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const err = body as Partial<ErrorResponse> | null;
    if (err && Array.isArray(err.errors)) {
      throw new ApiError(
        err.detail ?? `HTTP ${response.status}`,
        response.status,
        err.errors,
        err.nodes ?? {},
        err.backward_graph ?? null,
      );
    }
    const detail = (body as { detail?: unknown } | null)?.detail;
    throw new ApiError(
      typeof detail === "string" ? detail : `The server answered ${response.status}.`,
      response.status,
    );
  }
  return body as T;
}

const post = (graph: GraphDoc): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(graph),
});

const postJson = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

export const api = {
  ops: () => request<OpsResponse>("/api/ops"),
  health: () => request<Health>("/api/health"),
  examples: () => request<ExampleSummary[]>("/api/examples"),
  example: (name: string) => request<GraphDoc>(`/api/examples/${encodeURIComponent(name)}`),
  /** A graph with errors is a validation that found them: `valid: false`, not a failed request. */
  validate: (graph: GraphDoc, signal?: AbortSignal) =>
    request<Validation>("/api/validate", { ...post(graph), signal }),
  evaluate: (
    graph: GraphDoc,
    options: { full?: string[]; backwardGraph?: boolean; backwardSteps?: boolean } = {},
  ) => {
    const query = new URLSearchParams();
    if (options.full?.length) query.set("full", options.full.join(","));
    if (options.backwardGraph) query.set("backward_graph", "true");
    if (options.backwardSteps) query.set("backward_steps", "true");
    const q = query.toString();
    return request<EvaluateResponse>(`/api/evaluate${q ? `?${q}` : ""}`, post(graph));
  },
  /** Every gradient against central finite differences in float64 (POST /api/gradcheck). */
  gradcheck: (graph: GraphDoc) => request<GradcheckResponse>("/api/gradcheck", post(graph)),
  /** Each sample's gradients of a batch, sample `sample`'s in full (POST /api/per_sample). */
  perSample: (graph: GraphDoc, sample: number) =>
    request<PerSampleResponse>(`/api/per_sample?sample=${sample}`, post(graph)),
  /** One element's receptive field on every upstream node (POST /api/receptive_field). */
  receptiveField: (graph: GraphDoc, node: string, index: number[]) =>
    request<ReceptiveFieldResponse>(
      `/api/receptive_field?node=${encodeURIComponent(node)}&index=${index.join(",")}`,
      post(graph),
    ),
  /** Who gets in: whether the server has a class token, a teacher token, and whether this browser is the teacher. */
  auth: () => request<AuthStatus>("/api/auth"),
  /** The class token, kept by the server in an HttpOnly cookie for this browser (a 401 when wrong). */
  login: (token: string) => request<null>("/api/auth/token", postJson({ token })),
  /** The teacher token, kept by the server in an HttpOnly cookie for this browser. */
  teacherLogin: (token: string) => request<null>("/api/auth/teacher", postJson({ token })),
  createRoom: () => request<RoomCreated>("/api/rooms", { method: "POST" }),
  closeRoom: (id: string, key: string) =>
    request<null>(`/api/rooms/${encodeURIComponent(id)}`, {
      method: "DELETE",
      headers: { "x-room-key": key },
    }),
};
