// Runs before every npm script that starts a CLI (package.json), in plain JavaScript so that it
// works on any Node: on an older Node the CLIs fail while loading `node:sqlite`
// (ERR_UNKNOWN_BUILTIN_MODULE) with a stack trace. Say it in one line instead, with the fix.
// The required version is package.json's `engines.node` (one place); `.npmrc` sets
// engine-strict, so `npm ci` refuses the old Node first.
import { readFileSync } from "node:fs";

const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
const range = manifest.engines.node; // ">=22.12"
const [needMajor = 0, needMinor = 0] = (/>=\s*(\d+)(?:\.(\d+))?/.exec(range) ?? []).slice(1).map(Number);
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);

if (major < needMajor || (major === needMajor && minor < needMinor)) {
  process.stderr.write(
    `error: this project needs Node.js ${range} (it uses node:sqlite); this is Node ${process.versions.node}. Install Node 24 (\`nvm install\` reads .nvmrc, or https://nodejs.org), then run \`npm ci\` again.\n`,
  );
  process.exit(2);
}
