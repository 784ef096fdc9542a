"""Properties: the read predicate pushed into storage agrees with the per-record role check."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ampbase import a
from ampbase.engine.identity import Identity
from ampbase.errors import UnauthorizedError
from ampbase.storage.predicate import evaluate
from tests.auth.fixtures import policy_for

POLICY = policy_for(
    {
        "Doc": a.model(
            {
                "title": a.string(),
                "author": a.string(),
                "editors": a.string().array(),
                "team": a.string(),
                "teams": a.string().array(),
            }
        ).authorization(
            lambda allow: [
                allow.owner_defined_in("author"),
                allow.owners_defined_in("editors").to(["read", "update"]),
                allow.group_defined_in("team"),
                allow.groups_defined_in("teams").to(["read"]),
                allow.group("Admin").to(["read"]),
            ]
        )
    }
).model("Doc")

NAMES = ["alice", "bob"]
SUBS = {"alice": "A", "bob": "B"}
GROUPS = ["Admin", "Blue", "Red"]
owner_value = st.sampled_from(["A::alice", "A", "alice", "B::bob", "bob", "B", "x::alice::A"])
group_value = st.sampled_from(GROUPS)
record = st.fixed_dictionaries(
    {
        "id": st.just("d"),
        "author": st.none() | owner_value,
        "editors": st.none() | st.lists(owner_value, max_size=3),
        "team": st.none() | group_value,
        "teams": st.none() | st.lists(group_value, max_size=3),
    }
)
identity = st.builds(
    lambda name, groups, legacy: Identity(
        mode="userPool",
        claims={
            "sub": SUBS[name],
            ("cognito:username" if legacy else "username"): name,
            "cognito:groups": groups,
        },
    ),
    st.sampled_from(NAMES),
    st.lists(group_value, unique=True, max_size=2),
    st.booleans(),
)


def admitted(caller: Identity, row: dict[str, Any], op: str) -> bool:
    return any(POLICY.admits_record(role, caller, row) for role in POLICY.roles_for(op))


@settings(max_examples=300, deadline=None)
@given(identity, record)
def test_the_list_predicate_admits_exactly_the_rows_some_role_admits(
    caller: Identity, row: dict[str, Any]
) -> None:
    try:
        predicate = POLICY.read_filter(caller, "list", "listDocs", "Query")
    except UnauthorizedError:  # no role can admit anything: then no row may be admitted
        assert not admitted(caller, row, "list")
        return
    expected = admitted(caller, row, "list")
    assert (predicate is None or evaluate(predicate, row)) == expected


@settings(max_examples=300, deadline=None)
@given(identity, record)
def test_the_update_guard_matches_the_stored_record_check(caller: Identity, row: dict[str, Any]) -> None:
    try:
        guard = POLICY.authorize_update(caller, row, {"id": "d", "title": "t"}, "updateDoc")
    except UnauthorizedError:  # refused: no update role admits the stored row
        assert not admitted(caller, row, "update")
        return
    assert admitted(caller, row, "update")
    assert guard is None or evaluate(guard, row)
