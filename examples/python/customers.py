"""The Gen 2 "Customize secondary indexes" examples with the Python client, as a blocking script.

python examples/python/customers.py amplify_outputs.json --ca .ampbase/tls/ca.pem
"""

from __future__ import annotations

import argparse
from typing import Any

from ampbase.client import generate_sync_client


def main(outputs: str, ca: str | None = None) -> dict[str, Any]:
    with generate_sync_client(outputs, verify=ca or True) as client:
        for name in ("Rene", "Reza", "Ann"):
            client.models.Customer.create(name=name, accountRepresentativeId="YOUR_REP_ID")

        # The index query is named by its queryField (camelCase, as in JS) ...
        everyone = client.models.Customer.listCustomerByAccountRepresentativeIdAndName(
            accountRepresentativeId="YOUR_REP_ID"
        )
        # ... or by its snake_case alias, with a sort-key condition
        re_names = client.models.Customer.list_customer_by_account_representative_id_and_name(
            accountRepresentativeId="YOUR_REP_ID", name={"beginsWith": "Re"}, sort_direction="DESC"
        )
        return {
            "everyone": [c["name"] for c in everyone.data],
            "re_desc": [c["name"] for c in re_names.data],
        }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("outputs", nargs="?", default="amplify_outputs.json")
    parser.add_argument("--ca", help="the sandbox's CA certificate (.ampbase/tls/ca.pem)")
    args = parser.parse_args()
    print(main(args.outputs, args.ca))  # noqa: T201
