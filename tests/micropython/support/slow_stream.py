# A socket seen through a slow, choppy window: a stream (io.IOBase) that
# forwards to a real non-blocking socket but takes at most `wlimit` bytes per
# write and answers every other write with "would block", as a busy network
# or a peer that reads slowly does.  While `stalled`, it takes nothing at all.
# Reads go straight through.  For connect(sock=...) tests of non-blocking
# writes.
import io
import select
import socket

_STREAM_POLL = 3
_STREAM_CLOSE = 4
_POLL_RD = 0x0001
_POLL_WR = 0x0004


class SlowStream(io.IOBase):
    def __init__(self, host, port, wlimit=500):
        s = socket.socket()
        s.connect(socket.getaddrinfo(host, port)[0][-1])
        s.setblocking(False)
        self.s = s
        self.wlimit = wlimit
        self.stalled = False
        self.blocked = 0  # writes answered with "would block"
        self.written = 0
        self._turn = False
        self._poll = select.poll()
        self._poll.register(s, select.POLLIN | select.POLLOUT)

    def readinto(self, buf):
        return self.s.readinto(buf)

    def write(self, buf):
        self._turn = not self._turn
        if self.stalled or self._turn:
            self.blocked += 1
            return None
        n = self.s.write(memoryview(buf)[: self.wlimit])
        if n:
            self.written += n
        return n

    def ioctl(self, req, arg):
        if req == _STREAM_CLOSE:
            self.s.close()
            return 0
        if req == _STREAM_POLL:
            ready = 0
            for _, ev in self._poll.poll(0):
                ready |= ev
            if self.stalled:
                ready &= ~_POLL_WR
            return ready & (arg | 0x18)  # asked for, or ERR/HUP
        return -1
