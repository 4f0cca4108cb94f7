# What a reliability-test subscriber received, shared by subscriber.py
# (MicroPython, on the firmware) and refsub.py (CPython, the reference
# client): per topic (0: QoS 1, 1: QoS 2) how often each sequence number
# arrived, order, duplicates, and the report lines run.py reads.

MAX_DUP_REPORT = 50000  # QoS 2 messages listed in "sub: dup2" lines


class Tally:
    def __init__(self, n, strict_order=True, qos2_dups_fail=True, progress=0, out=print):
        self.n = n
        self.strict_order = strict_order  # else a late first occurrence is only counted
        self.qos2_dups_fail = qos2_dups_fail  # else QoS 2 duplicates are only counted
        self.progress = progress  # print "sub: got N" every `progress` new messages
        self.out = out
        # How often each sequence number arrived (saturating at 255).
        self.count = [bytearray(n), bytearray(n)]
        self.distinct = [0, 0]  # sequence numbers received at least once
        self.last_first = [-1, -1]  # the highest first occurrence so far
        self.dups = [0, 0]  # deliveries of a number seen before (QoS 1: allowed)
        self.dup_flag = [0, 0]  # deliveries with the DUP flag set
        self.late = [0, 0]  # first occurrences after a higher number's
        self.errors = []

    def error(self, text):
        if len(self.errors) < 20:
            self.errors.append(text)

    def done(self):
        return self.distinct[0] >= self.n and self.distinct[1] >= self.n

    def deliver(self, i, s, dup):
        """Message number s arrived on topic i (dup: its DUP flag)."""
        if dup:
            self.dup_flag[i] += 1
        if not 0 <= s < self.n:
            self.error("QoS %d message %d out of range" % (i + 1, s))
            return
        seen = self.count[i][s]
        if seen == 0:
            self.distinct[i] += 1
            total = self.distinct[0] + self.distinct[1]
            if self.progress and total % self.progress == 0:
                self.out("sub: got %d" % total)
            if s < self.last_first[i]:
                self.late[i] += 1
                if self.strict_order:
                    self.error("QoS %d message %d arrived after %d (out of order)" % (i + 1, s, self.last_first[i]))
            else:
                self.last_first[i] = s
        else:
            self.dups[i] += 1
            if i == 1 and self.qos2_dups_fail:
                self.error("QoS 2 message %d delivered %d times (dup flag %d)" % (s, seen + 1, dup))
        if seen < 255:
            self.count[i][s] = seen + 1

    def report(self):
        """The end: missing messages become errors; prints the counts (and
        the QoS 2 duplicates, when they are only counted)."""
        d, n = self.distinct, self.n
        for i in (0, 1):
            missing = [k for k in range(n) if self.count[i][k] == 0]
            if missing:
                self.errors.append("QoS %d: %d messages never arrived, first %r" % (i + 1, len(missing), missing[:5]))
        self.out(
            "sub: qos1 received %d of %d (+%d duplicates, %d late), qos2 received %d of %d (+%d duplicates, %d late), "
            "dup flags %d/%d"
            % (d[0], n, self.dups[0], self.late[0], d[1], n, self.dups[1], self.late[1], self.dup_flag[0], self.dup_flag[1])
        )
        self.out(
            "sub: qos1 deliveries=%d duplicates=%d, qos2 deliveries=%d duplicates=%d"
            % (d[0] + self.dups[0], self.dups[0], d[1] + self.dups[1], self.dups[1])
        )
        if not self.qos2_dups_fail:
            self._report_qos2_dups()

    def _report_qos2_dups(self):
        # "sub: dup2 S S*K ...": the QoS 2 messages delivered more than once
        # (K extra deliveries), lines of up to 100, for run.py to match
        # against the broker's re-sends of released ids.
        line = []
        shown = 0
        counts = self.count[1]
        for k in range(self.n):
            c = counts[k]
            if c > 1:
                if shown >= MAX_DUP_REPORT:
                    self.out("sub: dup2 truncated")
                    break
                line.append(str(k) if c == 2 else "%d*%d" % (k, c - 1))
                shown += 1
                if len(line) == 100:
                    self.out("sub: dup2 " + " ".join(line))
                    line = []
        if line:
            self.out("sub: dup2 " + " ".join(line))

    def finish(self):
        """Prints the errors and the verdict; True when OK."""
        for e in self.errors:
            self.out("sub: error: %s" % e)
        self.out("sub: FAIL" if self.errors else "sub: OK")
        return not self.errors
