"""An SPOA agent for the tests: answers each `echo` message by setting the
transaction variable `seen` to what it received (haproxyspoa, from PyPI).

Usage: echo_agent.py PORT
"""
import sys

from haproxyspoa.payloads.ack import AckPayload
from haproxyspoa.spoa_server import SpoaServer

agent = SpoaServer()


@agent.handler("echo")
async def echo(value):
    return AckPayload().set_txn_var("seen", "agent saw " + str(value))


agent.run(host="127.0.0.1", port=int(sys.argv[1]))
