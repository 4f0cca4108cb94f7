# A connection cut as the client sees it, for connect(sock=...) tests: a
# SlowStream to the broker whose `deaf` drops what the broker sends
# (nothing arrives) and whose writes fail (EPIPE) after `budget` bytes.
from mqtt_test import HOST, PORT
from slow_stream import SlowStream

EPIPE = 32


class Cut(SlowStream):
    def __init__(self, budget=1 << 30):
        super().__init__(HOST, PORT, wlimit=1 << 20)
        self.budget = budget
        self.deaf = False

    def readinto(self, buf):
        return None if self.deaf else self.s.readinto(buf)

    def write(self, buf):
        if self.budget <= 0:
            return -EPIPE
        n = self.s.write(memoryview(buf)[: self.budget])
        if n:
            self.budget -= n
        return n
