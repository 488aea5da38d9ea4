"""Reports: assessment.json for machines and an HTML report for people, written atomically."""

from pmpath.report.write import write_report

__all__ = ["write_report"]
