# Frozen modules of the qemu test firmware: the scripted broker the tests use
# (the qemu port has no filesystem to import it from).
module("scripted_broker.py", base_path="../../tests/qemu/support")
