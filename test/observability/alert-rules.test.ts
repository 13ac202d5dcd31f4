import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { promtool, ROOT, Rule, RuleGroup, RULE_TESTS_FILE, RULES_FILE } from './helpers/tools';

const groups = (parse(readFileSync(RULES_FILE, 'utf8')) as { groups: RuleGroup[] }).groups;
const alerts = groups
  .flatMap((g) => g.rules)
  .filter((r): r is Rule & { alert: string } => !!r.alert);

const RUNBOOK_BASE = 'https://github.com/order-service/order-service/blob/main/docs/runbooks.md#';
const runbooks = readFileSync(path.join(ROOT, 'docs/runbooks.md'), 'utf8');

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  return new Set(
    [...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
      m[1]!
        .trim()
        .toLowerCase()
        .replace(/[^\w\- ]/g, '')
        .replace(/ /g, '-'),
    ),
  );
}

/** The text under a heading, up to the next heading of any level. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) return '';
  const rest = markdown.slice(start + heading.length + 5);
  const next = rest.search(/^#{1,6} /m);
  return next < 0 ? rest : rest.slice(0, next);
}

interface AlertTestCase {
  alertname: string;
  eval_time: string;
  exp_alerts?: unknown[];
}
const ruleTests = (
  parse(readFileSync(RULE_TESTS_FILE, 'utf8')) as {
    tests: { name: string; alert_rule_test?: AlertTestCase[] }[];
  }
).tests.flatMap((t) => t.alert_rule_test ?? []);

describe('the Prometheus rules file', () => {
  it('passes promtool check rules', () => {
    const { code, output } = promtool('check', 'rules', RULES_FILE);
    expect(output).toContain('SUCCESS');
    expect(code).toBe(0);
  });

  it('passes its promtool unit tests', () => {
    const { code, output } = promtool('test', 'rules', RULE_TESTS_FILE);
    if (code !== 0) throw new Error(output);
    expect(output).toContain('SUCCESS');
  });

  it('has the alerts the service is operated by', () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual(
      [
        'OrderServiceApiHighErrorRatio',
        'OrderServiceLatencyBudgetBurnFast',
        'OrderServiceLatencyBudgetBurnSlow',
        'OrderServiceMysqlUnreachable',
        'OrderServiceNoWorkerConsuming',
        'OrderServiceOrdersFailing',
        'OrderServiceOrdersStuckPending',
        'OrderServiceOutboxGrowing',
        'OrderServiceQueueBacklogGrowing',
        'OrderServiceReadinessFlapping',
        'OrderServiceRedisUnreachable',
        'OrderServiceWebhookEndpointsFailing',
      ].sort(),
    );
  });

  it.each(alerts.map((a) => [a.alert, a] as const))(
    '%s has a severity, a summary, a description and a runbook section in docs/runbooks.md',
    (name, alert) => {
      expect(['critical', 'warning']).toContain(alert.labels?.severity);
      expect(alert.annotations?.summary).toEqual(expect.any(String));
      expect(alert.annotations?.description).toEqual(expect.any(String));
      expect(alert.annotations?.runbook_url).toBe(RUNBOOK_BASE + name.toLowerCase());
      expect(anchors(runbooks)).toContain(name.toLowerCase());
      // What to check and what to do, not just a heading.
      expect(section(runbooks, name).length).toBeGreaterThan(200);
    },
  );

  it.each(alerts.map((a) => [a.alert] as const))(
    '%s has a unit test where it fires and one where it stays quiet',
    (name) => {
      const cases = ruleTests.filter((t) => t.alertname === name);
      expect(cases.some((t) => (t.exp_alerts ?? []).length > 0)).toBe(true);
      expect(cases.some((t) => (t.exp_alerts ?? []).length === 0)).toBe(true);
    },
  );
});
