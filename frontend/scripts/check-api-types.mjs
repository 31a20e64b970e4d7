// Regenerate the API types from the backend's OpenAPI schema and fail if they differ from the committed file.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "dagrad-api-"));
const schema = join(dir, "openapi.json");
const generated = join(dir, "schema.gen.ts");
writeFileSync(schema, execFileSync("../.venv/bin/dagrad", ["openapi"]));
execFileSync("npx", ["openapi-typescript", schema, "-o", generated], { stdio: "ignore" });
const committed = readFileSync("src/api/schema.gen.ts", "utf8");
if (readFileSync(generated, "utf8") !== committed) {
  console.error(
    "src/api/schema.gen.ts is out of date with the backend's OpenAPI schema: run `npm run gen:api`.",
  );
  process.exit(1);
}
console.log("API types match the backend's OpenAPI schema.");
