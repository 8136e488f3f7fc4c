// `npm run bench`: runs every bench/*.bench.js (or those named on the command line) in this process.
// Each exports `default async function (log)` and prints ratios against a baseline it measures itself.
import { readdirSync } from "node:fs";

const dir = new URL("./", import.meta.url);
const only = process.argv.slice(2);
const files = readdirSync(dir).filter((f) => f.endsWith(".bench.js")).filter((f) => only.length === 0 || only.some((o) => f.includes(o))).sort();
for (const file of files) {
  const mod = await import(new URL(file, dir));
  console.log(`\n## ${file.replace(/\.bench\.js$/, "")}`);
  await mod.default((line) => console.log(line));
}
