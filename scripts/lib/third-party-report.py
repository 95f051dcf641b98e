"""Summarises the linters' findings on third-party chart objects: each finding once, with how many
objects have it and which. Usage: third-party-report.py KUBE_SCORE_CI_OUTPUT CHECKOV_JSON."""
import collections
import json
import re
import sys

kube_score, checkov = sys.argv[1:3]
findings = collections.defaultdict(set)
# kube-score's CI format: "[CRITICAL] name/namespace apps/v1/Deployment: (container) message"
line_format = re.compile(r"^\[(CRITICAL|WARNING)\] (\S+) (\S+): (?:\([^)]*\) )?(.*)$")
for line in open(kube_score, encoding="utf-8"):
    match = line_format.match(line.strip())
    if match:
        level, name, kind, message = match.groups()
        findings[(level, message)].add(f"{kind.rsplit('/', 1)[-1]} {name}")
print(f"   kube-score: {sum(len(v) for v in findings.values())} findings")
for (level, message), objects in sorted(findings.items(), key=lambda item: -len(item[1])):
    print(f"     {level:<8} {len(objects):3d}  {message}: {', '.join(sorted(objects)[:4])}{' …' if len(objects) > 4 else ''}")

report = json.load(open(checkov, encoding="utf-8"))
report = report[0] if isinstance(report, list) else report
summary = report["summary"]
print(f"   checkov: {summary['passed']} passed, {summary['failed']} failed")
failed = collections.Counter((c["check_id"], c["check_name"]) for c in report["results"]["failed_checks"])
for (check, name), count in failed.most_common():
    print(f"     {check:<12} {count:3d}  {name}")
