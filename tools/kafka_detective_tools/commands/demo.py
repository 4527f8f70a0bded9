"""`kafka-detective demo`: a local Kafka, the exporter, Prometheus, Alertmanager and a case study, live.

Starts everything on 127.0.0.1 (free ports, temporary directories), plays one of the brief's case studies in
compressed time with the traffic driver, shows a live terminal view (lag, lag seconds, the 30-minute forecast, the
diagnosis as it forms, alerts with their runbooks and where the Alertmanager delivered them), then writes the
investigation report (`kafka-detective investigate --prometheus ...`) and stops every process it started.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, Protocol

from kafka_detective.commands._argtypes import non_negative_int, positive_float

if TYPE_CHECKING:
    from kafka_detective_tools.sandbox.local_kafka import LocalKafka
    from kafka_detective_tools.sandbox.stack import PrometheusServer, Stack
    from kafka_detective_tools.sandbox.traffic import TrafficDriver
    from kafka_detective_tools.sandbox.webhook import WebhookReceiver

NAME = "demo"
HELP = ("start a local Kafka, the exporter, Prometheus and Alertmanager, play a production mystery and watch it "
        "being solved (about 4 minutes)")

DEFAULT_SCENARIO = "the-3am-mystery"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", default=DEFAULT_SCENARIO, metavar="NAME",
                        help=f"case study to play (default {DEFAULT_SCENARIO}; see --list-scenarios)")
    parser.add_argument("--list-scenarios", action="store_true", help="list the case studies and exit")
    parser.add_argument("--duration", type=positive_float, default=None, metavar="SECONDS",
                        help="compress or stretch the scenario's timeline to this many seconds (default: its own, "
                             "about 3 minutes)")
    parser.add_argument("--baseline", type=non_negative_int, default=0, metavar="SECONDS",
                        help="play the scenario's healthy first phase for at least this long (default 0: the "
                             "scenario's own timeline, about a minute of healthy traffic)")
    parser.add_argument("--check", action="store_true",
                        help="exit with status 1 unless the exporter's online diagnosis at the end is the case "
                             "study's own cause")
    parser.add_argument("--keep-running", action="store_true",
                        help="leave the stack and the traffic running after the report, print the URLs, stop on "
                             "Ctrl-C")
    parser.add_argument("--refresh", type=positive_float, default=3.0, metavar="SECONDS",
                        help="refresh the live view this often (default 3)")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="where the report, the delivered notifications and the log go "
                             "(default ./kafka-detective-demo-<time>)")
    parser.add_argument("--plain", action="store_true",
                        help="no screen redrawing: one status line per refresh (the default when stdout is not a "
                             "terminal)")


def run(args: argparse.Namespace) -> int:
    if args.list_scenarios:
        print(list_scenarios())
        return 0
    return run_demo(args)


# --------------------------------------------------------------------------------------------------------------


def list_scenarios() -> str:
    import textwrap

    from kafka_detective_tools.sandbox.traffic import SCENARIOS

    lines = []
    for sc in SCENARIOS.values():
        needs = "  [3 brokers]" if sc.brokers > 1 else ""
        default = "  (default)" if sc.name == DEFAULT_SCENARIO else ""
        lines.append(f"{sc.name:<24} {sc.title}, {sc.seconds:.0f}s{needs}{default}")
        lines += textwrap.wrap(sc.story, 100, initial_indent=" " * 25, subsequent_indent=" " * 25)
        if sc.expected_cause:
            lines.append(" " * 25 + f"expected diagnosis: {sc.expected_cause}")
    return "\n".join(lines)


def check_prerequisites() -> None:
    """UserError naming everything missing (java, mvn, prometheus, alertmanager) and how to get it."""
    from kafka_detective.errors import UserError
    from kafka_detective_tools.sandbox import kafka_distribution
    from kafka_detective_tools.sandbox.stack import find_binary

    missing = []
    try:
        kafka_distribution.find_java()
    except UserError as error:
        missing.append(str(error))
    dist = kafka_distribution.distribution_dir()
    if not (dist / ".complete").exists():
        try:
            kafka_distribution.find_maven()
        except UserError as error:
            missing.append(str(error))
    for names in (("prometheus",), ("prometheus-alertmanager", "alertmanager")):
        try:
            find_binary(*names)
        except UserError as error:
            missing.append(str(error))
    if missing:
        raise UserError("the demo cannot start: " + "; ".join(missing))


# ANSI: no curses needed.
BOLD, DIM, RED, YELLOW, GREEN, CYAN, RESET = "\x1b[1m", "\x1b[2m", "\x1b[31m", "\x1b[33m", "\x1b[32m", "\x1b[36m", \
    "\x1b[0m"
CLEAR = "\x1b[H\x1b[2J"
SPARK = "▁▂▃▄▅▆▇█"


def _fmt(value: float | None, unit: str = "", digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}{unit}"


def _spark(values: list[float], width: int = 40) -> str:
    values = values[-width:]
    if not values:
        return ""
    top = max(values) or 1.0
    return "".join(SPARK[min(len(SPARK) - 1, int(v / top * (len(SPARK) - 1) + 0.5))] for v in values)


class LiveView:
    """Everything the screen shows, read from Prometheus (what an operator's Grafana would show) and the webhook."""

    def __init__(self, env: Demo, color: bool) -> None:
        self.env = env
        self.color = color
        self.lag_history: list[float] = []
        self.first_seen: dict[str, float] = {}   # "alert" / "diagnosis" -> elapsed seconds when first seen

    def c(self, code: str, text: str) -> str:
        return f"{code}{text}{RESET}" if self.color else text

    def sample(self) -> dict:
        from kafka_detective.analysis.rootcause import REMEDIATION

        env = self.env
        prom, webhook, driver = env.running()
        sel = f'cluster="{env.cluster}",consumergroup="{driver.group}",topic="{driver.topic}"'
        tsel = f'cluster="{env.cluster}",topic="{driver.topic}"'
        gsel = f'cluster="{env.cluster}",consumergroup="{driver.group}"'

        def value(expr: str) -> float | None:
            try:
                return prom.value(expr)
            except Exception:
                return None

        data: dict = {
            "lag": value(f"sum(kafka_consumergroup_lag_sum{{{sel}}})"),
            "lag_seconds": value(f"max(kafka_consumergroup_max_lag_seconds{{{sel}}})"),
            "produce": value(f"sum(kafka_topic_produce_rate_messages_per_second{{{tsel}}})"),
            "consume": value(f"sum(kafka_consumergroup_consume_rate_messages_per_second{{{sel}}})"),
            "members": value(f"max(kafka_consumergroup_members{{{gsel}}})"),
            "brokers": value(f'max(kafka_brokers{{cluster="{env.cluster}"}})'),
            "lost": value(f"sum(kafka_consumergroup_lost_messages_total{{{sel}}})"),
            "forecast": {},
            "state": None,
            "diagnosis": None,
            "alerts": [],
            "scores": {},
        }
        try:
            for r in prom.query(f"kafka_consumergroup_predicted_lag{{{sel}}}"):
                data["forecast"][r["metric"].get("horizon")] = float(r["value"][1])
            upper = prom.query(f'kafka_consumergroup_predicted_lag_upper{{{sel},horizon="30m"}}')
            data["forecast_upper"] = float(upper[0]["value"][1]) if upper else None
            state = prom.query(f"kafka_consumergroup_state{{{gsel}}} == 1")
            data["state"] = state[0]["metric"].get("state") if state else None
            for r in prom.query(f"kafka_detective_anomaly_score{{{sel}}}"):
                data["scores"][r["metric"].get("signal")] = float(r["value"][1])
            diag = prom.query(f"topk(1, kafka_detective_diagnosis{{{sel}}})")
            if diag:
                cause = diag[0]["metric"].get("cause")
                data["diagnosis"] = (cause, float(diag[0]["value"][1]), REMEDIATION.get(cause, ""))
                self.first_seen.setdefault(f"diagnosis {cause}", driver.elapsed)
            data["alerts"] = prom.rule_alerts()
        except Exception:
            pass
        if data["lag"] is not None:
            self.lag_history.append(data["lag"])
        delivered: dict[str, dict] = {}
        for alert in webhook.alerts(status="firing"):
            delivered[alert["labels"].get("alertname", "")] = alert
            self.first_seen.setdefault(f"delivered {alert['labels'].get('alertname')}", driver.elapsed)
        data["delivered"] = delivered
        for alert in data["alerts"]:
            if alert["state"] == "firing":
                self.first_seen.setdefault(f"firing {alert['labels'].get('alertname')}", driver.elapsed)
        return data

    def render(self, data: dict) -> str:
        import textwrap

        env, sc, drv = self.env, self.env.scenario, self.env.running()[2]
        c = self.c
        phase = drv.phase
        total = sc.seconds
        lines = [
            c(BOLD, f"Kafka Detective demo - {sc.title}") + f"   t+{drv.elapsed:5.0f}s of {total:.0f}s"
            + c(DIM, "   (Ctrl-C stops and cleans up)"),
            *textwrap.wrap(sc.story, 110),
            "",
            c(CYAN, f"phase {drv.phase_index + 1}/{len(sc.phases)}: {phase.title if phase else '-'}")
            + (c(DIM, f" - {phase.note}") if phase and phase.note else ""),
            "",
            c(BOLD, f"group {drv.group} on topic {drv.topic}") + f"  (cluster {env.cluster}, "
            f"{_fmt(data['brokers'])} broker(s))   state {data['state'] or '-'}, {_fmt(data['members'])} member(s)",
            f"  produce {_fmt(data['produce'], ' msg/s', 1):>14}    consume {_fmt(data['consume'], ' msg/s', 1):>14}",
            f"  lag     {_fmt(data['lag'], ' msgs'):>14}    lag seconds {_fmt(data['lag_seconds'], ' s', 1):>10}"
            f"    lost to retention {_fmt(data['lost'])}",
            f"  lag     {_spark(self.lag_history)}",
            "  forecast " + "   ".join(f"in {h}: {_fmt(v)}" for h, v in sorted(
                data["forecast"].items(), key=lambda kv: int(kv[0].rstrip("m") or 0)))
            + (f"   (30m upper bound {_fmt(data.get('forecast_upper'))})" if data.get("forecast_upper") else ""),
            "  anomaly  " + "  ".join(f"{k} {v:.2f}" for k, v in sorted(data["scores"].items())),
            "",
        ]
        if data["diagnosis"]:
            cause, confidence, remedy = data["diagnosis"]
            lines.append(c(BOLD, "diagnosis: ") + c(RED if confidence >= 0.5 else YELLOW, cause)
                         + f"  (confidence {confidence:.0%})")
            lines += ["  " + x for x in textwrap.wrap(remedy, 106)]
        else:
            lines.append(c(BOLD, "diagnosis: ") + c(DIM, "none yet (no lag problem seen by the analysis)"))
        lines.append("")
        lines.append(c(BOLD, "alerts (Prometheus -> Alertmanager -> webhook)"))
        shown = set()
        for alert in sorted(data["alerts"], key=lambda a: (a["state"] != "firing", a["labels"].get("alertname"))):
            name = alert["labels"].get("alertname", "")
            if (name, alert["state"]) in shown:
                continue
            shown.add((name, alert["state"]))
            sev = alert["labels"].get("severity", "")
            hook = data["delivered"].get(name)
            where = f"delivered to {hook['receiver']}" if hook else ("held back (inhibited or waiting)"
                                                                     if alert["state"] == "firing" else "")
            color = RED if sev == "critical" else YELLOW if sev == "warning" else DIM
            diag = alert["labels"].get("diagnosis")
            lines.append(f"  {c(color, alert['state'].upper()):<9} {name:<38} {sev:<8}"
                         + (f" diagnosis={diag}" if diag else "") + f"  {c(DIM, where)}")
            runbook = alert.get("annotations", {}).get("runbook_url", "")
            if runbook and alert["state"] == "firing":
                local = env.root / "runbooks" / runbook.rsplit("/", 1)[-1]
                lines.append(c(DIM, f"            runbook {runbook}  (local: {local.relative_to(env.root)})"))
        if not data["alerts"]:
            lines.append(c(DIM, "  none"))
        lines += ["", c(BOLD, "what happened")]
        lines += [c(DIM, f"  +{t:4.0f}s {text}") for t, text in drv.events[-6:]]
        return "\n".join(lines)

    def status_line(self, data: dict) -> str:
        drv = self.env.running()[2]
        phase = drv.phase
        diag = data["diagnosis"]
        firing = sorted({a["labels"].get("alertname", "") for a in data["alerts"] if a["state"] == "firing"})
        forecast = data["forecast"].get("30m")
        return (f"+{drv.elapsed:4.0f}s [{phase.title if phase else '-'}] lag={_fmt(data['lag'])} "
                f"lag_seconds={_fmt(data['lag_seconds'], 's', 1)} forecast_30m={_fmt(forecast)} "
                f"diagnosis={f'{diag[0]} ({diag[1]:.0%})' if diag else '-'} firing={','.join(firing) or '-'} "
                f"delivered={','.join(sorted(data['delivered'])) or '-'}")


class Demo:
    """The running pieces, started in order and stopped in reverse by ``close()``."""

    def __init__(self, scenario, out_dir, cluster: str = "demo") -> None:
        from kafka_detective_tools.repo import find_root

        self.scenario = scenario
        self.out_dir = out_dir
        self.cluster = cluster
        self.root = find_root()
        self.kafka: LocalKafka | None = None
        self.exporter: Any = None     # the sandbox's in-process exporter
        self.stack: Stack | None = None
        self.driver: TrafficDriver | None = None
        self._stack_ctx = None

    def start(self, say) -> None:
        from kafka_detective_tools.sandbox.kafka_distribution import distribution_dir
        from kafka_detective_tools.sandbox.local_kafka import LocalKafka
        from kafka_detective_tools.sandbox.stack import COMPRESSED_TIME, Stack, sandbox_exporter
        from kafka_detective_tools.sandbox.traffic import TrafficDriver

        if not (distribution_dir() / ".complete").exists():
            say("fetching the Apache Kafka jars from Maven Central (first run only, a minute or two)")
        say(f"starting a local Kafka ({self.scenario.brokers} broker(s))")
        self.kafka = kafka = LocalKafka(brokers=self.scenario.brokers)
        kafka.start()
        say(f"  Kafka at {kafka.bootstrap_servers}")
        self.exporter = sandbox_exporter(kafka.bootstrap_servers, cluster=self.cluster)
        self.exporter.start()
        say(f"  exporter at {self.exporter_url}/metrics, open cases at {self.detective_url}")
        say("generating alert rules with compressed-time durations, starting Prometheus and Alertmanager")
        # the alerts link to this exporter's case files (case_url annotation)
        self.stack = stack = Stack([f"127.0.0.1:{self.exporter.port}"],
                                   overrides={**COMPRESSED_TIME, "case_base_url": self.exporter_url})
        stack.start()
        prometheus, alertmanager = stack.prometheus, stack.alertmanager
        assert prometheus is not None and alertmanager is not None   # Stack.start() has started both
        say(f"  Prometheus at {prometheus.url}, Alertmanager at {alertmanager.url}, webhook at {stack.webhook.url}")
        self.driver = driver = TrafficDriver(kafka.bootstrap_servers, self.scenario, kafka=kafka)
        say(f"playing {self.scenario.name}: {len(self.scenario.phases)} phases, {self.scenario.seconds:.0f}s")
        driver.start()

    def running(self) -> tuple[PrometheusServer, WebhookReceiver, TrafficDriver]:
        """Prometheus, the webhook receiver and the traffic of the started demo."""
        if self.stack is None or self.stack.prometheus is None or self.driver is None:
            raise RuntimeError("the demo is not running")
        return self.stack.prometheus, self.stack.webhook, self.driver

    @property
    def exporter_url(self) -> str:
        return f"http://127.0.0.1:{self.exporter.port}" if self.exporter is not None else ""

    @property
    def detective_url(self) -> str:
        return f"{self.exporter_url}/detective" if self.exporter is not None else ""

    def case_url(self) -> str:
        """The scenario's case file, linked as the /detective page itself links it."""
        from kafka_detective.analysis.model import GroupTopicAnalysis
        from kafka_detective.serving.detective_page import case_href

        driver = self.running()[2]
        return self.exporter_url + case_href(GroupTopicAnalysis(self.cluster, driver.group, driver.topic))

    def screenshots(self, say) -> None:
        """The open cases and the scenario's case file as PNGs in the report folder (needs Debian's chromium)."""
        from kafka_detective_tools.sandbox import browser

        if browser.chromium() is None:
            say("no chromium: skipping the screenshots of the investigation pages")
            return
        try:
            browser.screenshot(self.detective_url, self.out_dir / "detective.png", height=700)
            browser.screenshot(self.case_url(), self.out_dir / "detective-case.png", height=2200)
        except (browser.BrowserError, OSError) as error:   # pictures are a bonus; the demo goes on
            say(f"screenshots of the investigation pages failed: {error}")

    def urls(self) -> list[str]:
        out = []
        if self.kafka is not None:
            out.append(f"Kafka bootstrap   {self.kafka.bootstrap_servers}")
        if self.exporter is not None:
            out.append(f"exporter          {self.exporter_url}/metrics")
            out.append(f"open cases        {self.detective_url}  (case file: {self.case_url()})")
        if self.stack is not None and self.stack.prometheus is not None:
            out.append(f"Prometheus        {self.stack.prometheus.url}  (alerts: {self.stack.prometheus.url}/alerts)")
        if self.stack is not None and self.stack.alertmanager is not None:
            out.append(f"Alertmanager      {self.stack.alertmanager.url}")
            out.append(f"webhook receiver  {self.stack.webhook.url}  (GET lists what was delivered)")
        return out

    def close(self) -> None:
        import contextlib

        parts: list[_Stoppable | None] = [self.driver, self.stack, self.exporter, self.kafka]
        for part in parts:
            if part is not None:
                with contextlib.suppress(Exception):
                    part.stop()


class _Stoppable(Protocol):
    def stop(self) -> object: ...


def investigate(demo: Demo, since: float) -> str:
    """Run `kafka-detective investigate --prometheus <url>` in-process; returns the report path."""
    import contextlib
    import io
    import math

    from kafka_detective.cli import build_parser

    report_dir = demo.out_dir / "investigation"
    prometheus, _, driver = demo.running()
    argv = ["investigate", "--prometheus", prometheus.url, "--group", driver.group,
            "--topic", driver.topic, "--cluster", demo.cluster, "--since", f"{math.ceil(since)}s",
            "--step", "2s", "--out", str(report_dir), "--library-dir", str(demo.root / "patterns"), "--html"]
    args = build_parser().parse_args(argv)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        args._run(args)
    printed = buffer.getvalue().strip().splitlines()
    return printed[-1] if printed else str(report_dir / "report.md")


def run_demo(args: argparse.Namespace) -> int:
    import json
    import logging
    import signal
    import sys
    import time
    from datetime import datetime
    from pathlib import Path

    from kafka_detective.errors import UserError
    from kafka_detective_tools.sandbox.traffic import get_scenario

    scenario = get_scenario(args.scenario)
    if args.duration is not None:
        if args.duration < 20:
            raise UserError("--duration must be at least 20 seconds")
        scenario = scenario.scaled(args.duration)
    scenario = scenario.with_baseline(args.baseline)
    if args.refresh <= 0:
        raise UserError("--refresh must be positive")
    check_prerequisites()
    out_dir = Path(args.out or f"kafka-detective-demo-{datetime.now():%Y%m%d-%H%M%S}").resolve()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create {out_dir}: {error.strerror}") from None

    # Logs go to a file: the terminal is the live view.
    log_path = out_dir / "demo.log"
    root_logger = logging.getLogger()
    for handler in list(root_logger.handlers):
        root_logger.removeHandler(handler)
    handler = logging.FileHandler(log_path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root_logger.addHandler(handler)
    root_logger.setLevel(logging.INFO)
    logging.getLogger("kafka").setLevel(logging.ERROR)

    plain = args.plain or not sys.stdout.isatty()
    started = time.monotonic()

    def say(text: str) -> None:
        print(f"[{time.monotonic() - started:5.1f}s] {text}", flush=True)

    def on_term(signum, frame):
        raise KeyboardInterrupt

    # Ctrl-C and SIGTERM stop and clean up, even when started with SIGINT ignored (a background job).
    previous = {sig: signal.signal(sig, on_term) for sig in (signal.SIGINT, signal.SIGTERM)}
    demo = Demo(scenario, out_dir)
    matched = False
    try:
        demo.start(say)
        prometheus, webhook, driver = demo.running()
        view = LiveView(demo, color=not plain)
        # After the last phase: a few seconds for the last alerts to be delivered, up to 30 s more while the
        # diagnosis has not formed yet (a short --duration).
        finished: float | None = None
        data = view.sample()
        while True:
            if finished is None and driver.finished:
                finished = time.monotonic()
            waited = 0.0 if finished is None else time.monotonic() - finished
            if waited >= 40.0 or (waited >= 10.0 and data.get("diagnosis")):
                break
            time.sleep(args.refresh)
            data = view.sample()
            if plain:
                print(view.status_line(data), flush=True)
            else:
                sys.stdout.write(CLEAR + view.render(data) + "\n")
                sys.stdout.flush()
        if not plain:
            sys.stdout.write(CLEAR + view.render(data) + "\n\n")
        say("scenario finished; investigating with `kafka-detective investigate --prometheus "
            f"{prometheus.url} --group {driver.group} --topic {driver.topic}`")
        try:
            report = investigate(demo, since=driver.elapsed + 30)
        except UserError as error:
            report = None
            say(f"investigation failed: {error}")
        notifications = [n.payload for n in webhook.notifications()]
        (out_dir / "notifications.json").write_text(json.dumps(notifications, indent=1))
        demo.screenshots(say)
        matched = print_summary(demo, view, data, report, say)
        if args.keep_running:
            print("\nThe stack keeps running (the scenario's last phase goes on). Ctrl-C stops everything.")
            for line in demo.urls():
                print(f"  {line}")
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        say("interrupted")
    finally:
        say("stopping the traffic, Prometheus, Alertmanager, the exporter and Kafka")
        demo.close()
        for sig, previous_handler in previous.items():
            signal.signal(sig, previous_handler)
        say(f"done in {time.monotonic() - started:.0f}s; everything started by the demo is stopped")
    if args.check and not matched:
        print(f"kafka-detective demo --check: the online diagnosis at the end is not {scenario.expected_cause}",
              file=sys.stderr)
        return 1
    return 0


def print_summary(demo: Demo, view: LiveView, data: dict, report: str | None, say) -> bool:
    """The closing report; True when the online diagnosis at the end is the story's own cause."""
    sc = demo.scenario
    print()
    print(f"=== {sc.title}: what the detective found ===")
    diag = data.get("diagnosis")
    matched, verdict = sc.verdict(diag[0] if diag else None)
    if diag:
        print(f"diagnosis: {diag[0]} (confidence {diag[1]:.0%}; {verdict})")
    else:
        print(f"diagnosis: none reported by the exporter at the end ({verdict})")
    print(f"  the incident starts at +{sc.onset_seconds:.0f}s (after the healthy first phase)")
    for key, t in sorted(view.first_seen.items(), key=lambda kv: kv[1]):
        print(f"  +{t:4.0f}s first {key}")
    delivered = demo.running()[1].alerts(status="firing")
    if delivered:
        print("alerts delivered by the Alertmanager:")
        seen = set()
        for alert in delivered:
            labels = alert["labels"]
            alert_key = (labels.get("alertname"), labels.get("diagnosis"))
            if alert_key in seen:
                continue
            seen.add(alert_key)
            print(f"  {labels.get('alertname')} [{labels.get('severity')}] -> {alert['receiver']}"
                  + (f"  diagnosis={labels['diagnosis']}" if labels.get("diagnosis") else ""))
            print(f"      {alert['annotations'].get('summary', '')}")
            print(f"      runbook: {alert['annotations'].get('runbook_url', '-')}")
            if alert["annotations"].get("case_url"):
                print(f"      case file: {alert['annotations']['case_url']}")
    else:
        print("no alert was delivered")
    if report:
        print(f"investigation report: {report} (and report.html beside it)")
    print(f"investigation pages: {demo.detective_url} (case file: {demo.case_url()})")
    if (demo.out_dir / "detective-case.png").exists():
        print(f"screenshots: {demo.out_dir / 'detective.png'}, {demo.out_dir / 'detective-case.png'}")
    print(f"delivered notifications: {demo.out_dir / 'notifications.json'}; log: {demo.out_dir / 'demo.log'}")
    return matched
