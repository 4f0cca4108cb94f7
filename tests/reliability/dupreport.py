# The "sub: dup2" report shared by subscriber.py (MicroPython) and refsub.py
# (CPython): the QoS 2 messages delivered more than once, for run.py to
# match against the broker's re-sends of released ids.

MAX_DUP_REPORT = 50000  # QoS 2 messages listed in "sub: dup2" lines


def report_qos2_dups(counts, out=print):
    # counts[k]: deliveries of QoS 2 message k.  Lines of up to 100 entries
    # "S" (delivered twice) or "S*K" (K extra deliveries).
    line = []
    shown = 0
    for k in range(len(counts)):
        c = counts[k]
        if c > 1:
            if shown >= MAX_DUP_REPORT:
                out("sub: dup2 truncated")
                break
            line.append(str(k) if c == 2 else "%d*%d" % (k, c - 1))
            shown += 1
            if len(line) == 100:
                out("sub: dup2 " + " ".join(line))
                line = []
    if line:
        out("sub: dup2 " + " ".join(line))
