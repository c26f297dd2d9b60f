import sys
import time

from django.core.management.base import BaseCommand

from disputes.services.deadlines import process_deadlines
from disputes.services.presence import viewers_sweep


class Command(BaseCommand):
    help = (
        "Do every deadline step that is due (escalations, closings, refunds, reminders), and forget the "
        "case viewers of socket servers that died. Safe to run anywhere, any time."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep running, every --interval seconds.")
        parser.add_argument("--interval", type=float, default=60, help="Seconds between runs with --loop.")
        parser.add_argument("--batch-size", type=int, default=200)

    def handle(self, *args, loop, interval, batch_size, **options):
        while True:
            started = time.monotonic()
            done = process_deadlines(batch_size=batch_size, progress=self._progress() if sys.stderr.isatty() else None)
            if swept := viewers_sweep():
                done["stale_case_viewers_removed"] = swept
            summary = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in sorted(done.items()))
            self.stdout.write(f"Deadlines processed in {time.monotonic() - started:.1f}s: {summary or 'nothing due'}.")
            if not loop:
                return
            time.sleep(interval)

    def _progress(self):
        seen = {}

        def report(label: str, step: int) -> None:
            seen[label] = seen.get(label, 0) + step
            sys.stderr.write(f"\r{label}: {seen[label]} checked ")
            sys.stderr.flush()

        return report
