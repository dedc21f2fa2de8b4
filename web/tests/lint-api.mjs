// The OpenAPI document against redocly's recommended rules (web/redocly.yaml): fails on any
// error or warning, where `redocly lint` itself fails on errors only.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const doc = join(web, '..', 'server', 'openapi.json');
let out;
try {
  out = execFileSync(join(web, 'node_modules', '.bin', 'redocly'),
    ['lint', doc, '--config', join(web, 'redocly.yaml'), '--format=json'],
    { cwd: web, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
} catch (e) {
  out = e.stdout; // errors exit 1; the report is still on stdout
}
const report = JSON.parse(out);
const { errors, warnings } = report.totals;
for (const p of report.problems) {
  const where = p.location?.[0]?.pointer ?? '';
  console.log(`${p.severity} ${p.ruleId}: ${p.message} ${where}`);
}
console.log(`openapi-lint: ${errors} error(s), ${warnings} warning(s)`);
process.exit(errors + warnings === 0 ? 0 : 1);
