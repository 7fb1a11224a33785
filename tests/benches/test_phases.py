"""benches/phases.py: py-spy's collapsed stacks into the phases of one call."""

from __future__ import annotations

from benches.phases import OTHER, attribute

RAW = """\
main (gateway/cli/__main__.py:7);Runner.run (asyncio/runners.py:118);RequestResponseCycle.run_asgi (uvicorn/protocols/http/httptools_impl.py:409);serve_call (gateway/calls/flow.py:103);call (gateway/calls/invocation.py:94);attempt_inline (gateway/inline.py:138);ModuleInstance.call_json (isolates/module_instance.py:120) 30
main (gateway/cli/__main__.py:7);Runner.run (asyncio/runners.py:118);AfterResponse.drain (gateway/inline.py:80);DeferredClose.__call__ (isolates/instance.py:67);RawStore.close (isolates/raw.py:88) 12
main (gateway/cli/__main__.py:7);Runner.run (asyncio/runners.py:118);AfterResponse.drain (gateway/inline.py:80);_finish (gateway/calls/invocation.py:140);LogHub.publish_many (gateway/logs/hub.py:108) 5
main (gateway/cli/__main__.py:7);Runner.run (asyncio/runners.py:118);RequestResponseCycle.send (uvicorn/protocols/http/httptools_impl.py:524) 8
main (gateway/cli/__main__.py:7);Runner.run (asyncio/runners.py:118) 3
Thread.run (threading.py:982);EpochTicker._run (isolates/engine.py:91);Event.wait (threading.py:629);Condition.wait (threading.py:331) 40
"""


def test_each_sample_goes_to_the_phase_of_its_deepest_named_frame() -> None:
    counts = attribute(RAW)

    assert counts["guest code"] == 30  # not "call bookkeeping", which its callers are
    assert counts["reset/drop (Store close)"] == 12
    assert counts["logs and metrics"] == 5  # deferred after the response, still this call's CPU
    assert counts["response writing (uvicorn's send: the socket write)"] == 8
    assert counts[OTHER] == 3  # the loop's own code


def test_threads_waiting_are_not_counted() -> None:
    assert sum(attribute(RAW).values()) == 58  # the epoch ticker's 40 samples in Condition.wait are left out
