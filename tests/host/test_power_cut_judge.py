"""The power-cut test's judge (tests/reliability/power_cut.py): which QoS 2
duplicates its windows explain, on hand-written logs.  Message 0 is QoS 1
(delivered once), message 1 QoS 2; "got" lines are deliveries, "start" a
restart after a kill, "try" a publish attempt."""

import contextlib
import io
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reliability"))

import power_cut  # noqa: E402


def judge(sub, pub):
    with contextlib.redirect_stdout(io.StringIO()):
        return power_cut.judge(1, ["got 0"] + sub, pub, {"publisher": 0, "subscriber": 0}, 0, 0, 0.0)


class Judge(unittest.TestCase):
    def test_one_copy_is_no_duplicate(self):
        self.assertEqual(judge(["got 1", "tick", "end"], ["try 0", "try 1", "sent 1"]), 0)

    def test_a_kill_after_the_callback_explains_one_copy(self):
        self.assertEqual(judge(["got 1", "start", "ready", "got 1", "end"], ["try 1"]), 0)

    def test_a_duplicate_without_a_window_fails(self):
        self.assertEqual(judge(["got 1", "tick", "got 1", "end"], ["try 1", "sent 1"]), 1)

    def test_windows_add_up(self):
        # Tried twice by the publisher, the second copy cut short by a kill:
        # three deliveries, both extra copies explained (seen in a real run).
        sub = ["got 1", "tick", "got 1", "start", "ready", "got 1", "end"]
        self.assertEqual(judge(sub, ["try 1", "try 1", "sent 1"]), 0)
        # With one try only one of the two is explained.
        self.assertEqual(judge(sub, ["try 1", "sent 1"]), 1)

    def test_a_kill_after_the_last_delivery_explains_nothing(self):
        self.assertEqual(judge(["got 1", "tick", "got 1", "start", "ready", "end"], ["try 1", "sent 1"]), 1)

    def test_a_lost_message_fails(self):
        self.assertEqual(judge(["end"], ["try 1", "sent 1"]), 1)


if __name__ == "__main__":
    unittest.main()
