// The API types, generated from the backend's OpenAPI schema: the one definition of how.
//   node scripts/api-types.mjs          fail if src/api/schema.gen.ts differs from a fresh generation
//   node scripts/api-types.mjs --write  regenerate src/api/schema.gen.ts (npm run gen:api)
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const COMMITTED = "src/api/schema.gen.ts";
const write = process.argv.includes("--write");

const dir = mkdtempSync(join(tmpdir(), "dagrad-api-"));
try {
  const schema = join(dir, "openapi.json");
  const out = write ? COMMITTED : join(dir, "schema.gen.ts");
  writeFileSync(schema, execFileSync("../.venv/bin/dagrad", ["openapi"]));
  execFileSync("npx", ["openapi-typescript", schema, "-o", out], { stdio: write ? "inherit" : "ignore" });
  if (!write) {
    if (readFileSync(out, "utf8") === readFileSync(COMMITTED, "utf8")) {
      console.log("API types match the backend's OpenAPI schema.");
    } else {
      console.error(
        `${COMMITTED} is out of date with the backend's OpenAPI schema: run \`npm run gen:api\`.`,
      );
      process.exitCode = 1;
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
