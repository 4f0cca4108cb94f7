# Frozen Python modules over the native umqtt_rs module.  A firmware builder
# adds them from the board's manifest with
#     include("/path/to/umqtt_rs/micropython-glue/manifest.py")
# (a relative path is taken from the including manifest's folder), or leaves
# one out:  include(".../micropython-glue/manifest.py", asyncio=False).
# umqtt_rs_asyncio needs asyncio in the firmware (most ports freeze it).
options.defaults(robust=True, asyncio=True)

if options.robust:
    module("umqtt_rs_robust.py", base_path="python")
if options.asyncio:
    module("umqtt_rs_asyncio.py", base_path="python")
