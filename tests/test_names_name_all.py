"""MetricNamer.name_all (each host and service named once) against name() key by key."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from nagtune.parsers.identity import NodeIdentity
from nagtune.parsers.metrics import FAMILIES, GRANULARITIES, MetricKey, MetricNamer

# Raw names that collide once made safe ("web 1", "web.1", "web_1"), and an empty one.
RAW = st.sampled_from(["web 1", "web.1", "web_1", "db", "", "Disk /var", "disk_var", "ü-host"])
KEYS = st.lists(
    st.builds(
        MetricKey,
        st.sampled_from(FAMILIES),
        RAW,
        RAW,
        st.sampled_from(["", "OK", "CRITICAL", "DOWN"]),
        st.sampled_from(["", "HARD", "SOFT", "PROBLEM", "RECOVERY"]),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(
    keys=KEYS,
    granularity=st.sampled_from(GRANULARITIES),
    tags=st.booleans(),
    prefix=st.sampled_from(["nagios", "", "a.b"]),
)
def test_name_all_is_name_of_each_key(keys, granularity, tags, prefix):
    identity = NodeIdentity("nagios-c0001-01", "cell", "c0001", "test")
    one_by_one = MetricNamer(identity, prefix=prefix, granularity=granularity, tags=tags)
    at_once = MetricNamer(identity, prefix=prefix, granularity=granularity, tags=tags)
    assert at_once.name_all(keys) == [one_by_one.name(key) for key in keys]
    # The registries end the same: collisions settle in favour of the same raw name.
    assert at_once.collisions == one_by_one.collisions
    assert at_once.hosts.to_dict() == one_by_one.hosts.to_dict()
    assert at_once.services.to_dict() == one_by_one.services.to_dict()
