"""``genesis evaluate`` and ``genesis dashboard``: quality runs from the command line."""
from __future__ import annotations

import typing as t

import click

from genesis_sql.cli._base import cli, database, stop_on_sigterm

if t.TYPE_CHECKING:
    from genesis_sql.quality import QualityReport


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _risk(report: QualityReport, metric: str) -> tuple[str, str]:
    """The label and text of one attack's risk: the riskiest one (inference: per secret column), its interval
    and its holdout baseline."""
    label = metric.replace("_", " ").replace("singling out", "singling-out")
    risks = [m for m in report.select("privacy", metric) if m.available]
    if not risks:
        return label, "n/a"
    worst = max(risks, key=lambda m: m.value)
    detail = worst.detail
    baseline = (f"holdout baseline {detail['holdout_rate']:.3f}" if detail["relative_to_holdout"]
                else "no holdout: the attack's success rate")
    label += f" ({worst.column_1})" if worst.column_1 else ""
    return label, f"{worst.value:.3f} [{detail['risk_low']:.3f}, {detail['risk_high']:.3f}]; {baseline}"


@cli.command()
@click.argument("model")
@click.option("--real", "real_sql", required=True, help="The real rows to compare with: a SQL query.")
@click.option("--target", help="A column to predict for the ML-utility figure (TSTR vs TRTR).")
@click.option("--holdout", "holdout_sql",
              help="Real rows the model never saw (a SQL query); default: the split recorded by fit --holdout.")
@click.option("-n", "--rows", "n", type=int, help="Synthetic rows to generate (default: min(real rows, 50,000)).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, writable=True),
              help="Also write a self-contained HTML report here.")
@click.option("--pdf", "pdf_path", type=click.Path(dir_okay=False, writable=True),
              help="Also write a PDF report (one page per section) here.")
@click.pass_context
def evaluate(ctx: click.Context, model: str, real_sql: str, target: str | None, holdout_sql: str | None,
             n: int | None, report_path: str | None, pdf_path: str | None) -> None:
    """Evaluate MODEL against real rows, store the run, and print its scores."""
    from genesis_sql.quality import QualityDashboard
    from genesis_sql.quality import evaluate as run_evaluation
    from genesis_sql.quality.risks import RISK_METRICS

    with database(ctx) as con:
        report = run_evaluation(con, model, real_sql, n=n, target=target, holdout_sql=holdout_sql)
        dashboard = QualityDashboard.from_run(con, report.run_id) if report_path or pdf_path else None
    scores = report.scores
    click.echo(f"run {report.run_id}: {report.model}@{report.model_version}, {report.n_real:,} real vs "
               f"{report.n_synthetic:,} synthetic rows")
    for label, value in (("overall", report.overall), ("column shapes", scores["column_shapes"]),
                         ("column pair trends", scores["column_pair_trends"]), ("detection", scores["detection"]),
                         ("utility", scores["utility"]), ("exact-copy rate", scores["exact_copy_rate"]),
                         ("DCR ratio (synthetic / holdout)", scores["dcr_ratio"])):
        click.echo(f"  {label:<32} {_score(value)}")
    for metric in RISK_METRICS:
        click.echo("  {:<32} {}".format(*_risk(report, metric)))
    if dashboard is not None and report_path:
        dashboard.generate_html_report(report_path)
        click.echo(f"HTML report: {report_path}")
    if dashboard is not None and pdf_path:
        dashboard.save_pdf(pdf_path)
        click.echo(f"PDF report: {pdf_path}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on; other than loopback only with a token.")
@click.option("--port", default=8050, show_default=True, type=int, help="Port to listen on (0: any free port).")
@click.option("--token", envvar="GENESIS_DASHBOARD_TOKEN", help="Require this token (?token=... or a Bearer header).")
@click.option("--allowed-host", "allowed_hosts", multiple=True, metavar="NAME",
              help="Also answer requests for this host name (besides the address and localhost), e.g. the "
                   "machine's name when binding 0.0.0.0.")
@click.pass_context
def dashboard(ctx: click.Context, host: str, port: int, token: str | None, allowed_hosts: tuple[str, ...]) -> None:
    """Serve the quality dashboard over the database (opens no browser; Ctrl-C or SIGTERM stops it).

    The database is opened per request, so other genesis commands can use it while the dashboard runs.
    """
    from genesis_sql.quality._optional import require

    require("flask")  # the dashboard extra: a one-line error naming it rather than a traceback
    from genesis_sql.server import check_bind, create_app
    from genesis_sql.server.serving import HttpServer

    check_bind(host, token)
    app = create_app({"DATABASE": ctx.obj["db"], "TOKEN": token, "BIND_HOST": host, "ALLOWED_HOSTS": allowed_hosts})
    server = HttpServer(app, host, port)
    click.echo(f"genesis dashboard on {server.url}/ (database {ctx.obj['db']})", err=True)
    stop_on_sigterm()
    server.serve_forever()  # returns on Ctrl-C or SIGTERM: werkzeug takes the KeyboardInterrupt and closes
    click.echo("stopped", err=True)
