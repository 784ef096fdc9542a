"""The Gen 2 "Modeling relationships" examples with the Python client: a Team has many Members.

python examples/python/team_members.py amplify_outputs.json --ca .ampbase/tls/ca.pem
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from ampbase.client import generate_client


async def main(outputs: str, ca: str | None = None) -> dict[str, Any]:
    async with generate_client(outputs, verify=ca or True) as client:
        # Create a "has many" relationship between records
        team = (await client.models.Team.create(mantra="Go Frontend!")).data
        assert team is not None
        member = (await client.models.Member.create(name="Tim", teamId=team["id"])).data
        assert member is not None

        # Update: move the member to a new team
        new_team = (await client.models.Team.create(mantra="Go Fullstack")).data
        assert new_team is not None
        await client.models.Member.update(id=member["id"], teamId=new_team["id"])

        # Lazy load a "has many" relationship
        fetched = (await client.models.Team.get(id=new_team["id"])).data
        assert fetched is not None
        members = (await fetched.members()).data

        # ... and the "belongs to" side
        parent = (await members[0].team()).data

        # Eagerly load with a custom selection set
        eager = (await client.models.Team.get(id=new_team["id"], selection_set=["id", "members.*"])).data

        # Delete the relationship: set the reference field to None
        detached = (await client.models.Member.update(id=member["id"], teamId=None)).data
        return {
            "members": [m["name"] for m in members],
            "parent_mantra": parent["mantra"] if parent else None,
            "eager_members": [m["name"] for m in eager["members"]] if eager else None,
            "detached_team": detached["teamId"] if detached else "missing",
            "old_team_members": [m["name"] for m in (await team.members()).data],
        }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("outputs", nargs="?", default="amplify_outputs.json")
    parser.add_argument("--ca", help="the sandbox's CA certificate (.ampbase/tls/ca.pem)")
    args = parser.parse_args()
    print(asyncio.run(main(args.outputs, args.ca)))  # noqa: T201
