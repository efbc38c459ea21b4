"""What the summary view's buttons do after a session: open the data, open or write the report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PyQt6.QtCore import QUrl
from PyQt6.QtGui import QDesktopServices

from cpmlab.console import style
from cpmlab.console.summary_view import SummaryView
from cpmlab.console.tasks import BackgroundTasks
from cpmlab.console.worker import SessionReport, find_reports


def score_and_write_report(root: Path) -> list[Path]:
    """Score the dataset at root, write its HTML report, and return the reports found there."""
    from cpmlab.scoring.options import ScoringOptions
    from cpmlab.scoring.pipeline import score_dataset
    from cpmlab.scoring.report import write_report

    write_report(score_dataset(root, ScoringOptions()))
    return find_reports(root)


class ResultActions:
    """Serves the summary view's buttons for the last session's report."""

    def __init__(
        self, view: SummaryView, tasks: BackgroundTasks, last_report: Callable[[], SessionReport | None]
    ) -> None:
        self.view = view
        self.tasks = tasks
        self.last_report = last_report
        view.open_folder_clicked.connect(self.open_data_folder)
        view.open_report_clicked.connect(self.open_report)
        view.score_clicked.connect(self.score_and_report)

    def open_data_folder(self) -> None:
        """Open the dataset folder in the file manager."""
        report = self.last_report()
        if report and report.data_root:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(report.data_root)))

    def open_report(self) -> None:
        """Open the newest HTML report in the browser."""
        report = self.last_report()
        if report and report.report_html:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(report.report_html[0])))

    def score_and_report(self) -> None:
        """Score the dataset and write its report in the background; show the outcome."""
        report = self.last_report()
        if report is None or report.data_root is None:
            return
        root = Path(report.data_root)
        self.view.set_scoring(True, "Scoring and writing the report…")

        def done(reports: list[Path]) -> None:
            self.view.set_reports(reports)
            self.view.set_scoring(False, f"Report written: {reports[0] if reports else '?'}", style.GREEN)

        def failed(exc: BaseException) -> None:
            self.view.set_scoring(False, f"Scoring failed: {exc}", style.RED)

        self.tasks.run(lambda: score_and_write_report(root), done, failed, name="score")
