"""The benchmark data set and workloads, identical for every target.

Data set (ids generated client side, so every target holds the same items):

* 1,000 ``Todo``;
* 1,000 ``Customer`` spread over 10 account representatives (100 each, names ``c-000`` ..
  ``c-099``), queried through the ``byRepresentative`` index (sort key ``name``);
* 100 ``Project`` x 10 ``Task`` each (``Project.tasks`` is a hasMany on ``Task.projectId``).

Workloads (selection sets as an Amplify client would send them):

========  =======================================================================================
get       ``getTodo(id)``, all 7 fields, cycling over the 1,000 ids
list      ``listTodos(limit: 100)`` of 1,000, all 7 fields (first page)
index     ``customersByRepresentative(accountRepresentativeId, name: {beginsWith: "c-0"},
          limit: 20)``: a secondary-index query with a sort-key condition, 20 items
eager     ``listProjects(limit: 100) { items { ... tasks { items { ... } } } }``: 100 parents
          with their 10 children each, in one request
create    ``createTodo``, all 7 fields back (grows the Todo table, so it runs last)
========  =======================================================================================
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CREATE_CUSTOMER",
    "CREATE_PROJECT",
    "CREATE_TASK",
    "CREATE_TODO",
    "WORKLOADS",
    "DataSet",
    "Workload",
    "check_response",
]

TODO_FIELDS = "id name description priority done createdAt updatedAt"
CUSTOMER_FIELDS = "id name phoneNumber accountRepresentativeId createdAt updatedAt"

CREATE_TODO = (
    f"mutation CreateTodo($input: CreateTodoInput!) {{ createTodo(input: $input) {{ {TODO_FIELDS} }} }}"
)
CREATE_CUSTOMER = (
    "mutation CreateCustomer($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }"
)
CREATE_PROJECT = "mutation CreateProject($input: CreateProjectInput!) { createProject(input: $input) { id } }"
CREATE_TASK = "mutation CreateTask($input: CreateTaskInput!) { createTask(input: $input) { id } }"

GET_TODO = f"query GetTodo($id: ID!) {{ getTodo(id: $id) {{ {TODO_FIELDS} }} }}"
LIST_TODOS = (
    f"query ListTodos($limit: Int) {{ listTodos(limit: $limit) {{ items {{ {TODO_FIELDS} }} nextToken }} }}"
)
BY_REPRESENTATIVE = (
    "query ByRepresentative($rep: ID!, $prefix: String!, $limit: Int) { "
    "customersByRepresentative(accountRepresentativeId: $rep, name: {beginsWith: $prefix}, limit: $limit) "
    f"{{ items {{ {CUSTOMER_FIELDS} }} nextToken }} }}"
)
EAGER = (
    "query ProjectsWithTasks($limit: Int) { listProjects(limit: $limit) { items { id name createdAt "
    "tasks { items { id title done projectId createdAt } nextToken } } nextToken } }"
)

TODOS = 1000
REPRESENTATIVES = 10
CUSTOMERS_PER_REPRESENTATIVE = 100
PROJECTS = 100
TASKS_PER_PROJECT = 10
LIST_LIMIT = 100
INDEX_LIMIT = 20


@dataclass(frozen=True, slots=True)
class DataSet:
    todos: list[dict[str, Any]]
    customers: list[dict[str, Any]]
    representatives: list[str]
    projects: list[dict[str, Any]]
    tasks: list[dict[str, Any]]

    @classmethod
    def generate(cls, seed: int = 20261122) -> DataSet:
        rng = random.Random(seed)

        def uid() -> str:
            return str(uuid.UUID(int=rng.getrandbits(128), version=4))

        todos = [
            {
                "id": uid(),
                "name": f"todo-{i:04d}",
                "description": "benchmark item",
                "priority": i % 10,
                "done": i % 2 == 0,
            }
            for i in range(TODOS)
        ]
        representatives = [uid() for _ in range(REPRESENTATIVES)]
        customers = [
            {
                "id": uid(),
                "name": f"c-{j:03d}",
                "phoneNumber": f"+1555{r:02d}{j:04d}",
                "accountRepresentativeId": rep,
            }
            for r, rep in enumerate(representatives)
            for j in range(CUSTOMERS_PER_REPRESENTATIVE)
        ]
        rng.shuffle(customers)
        projects = [{"id": uid(), "name": f"project-{i:03d}"} for i in range(PROJECTS)]
        tasks = [
            {"id": uid(), "title": f"task-{i:03d}-{k:02d}", "done": k % 3 == 0, "projectId": p["id"]}
            for i, p in enumerate(projects)
            for k in range(TASKS_PER_PROJECT)
        ]
        return cls(todos, customers, representatives, projects, tasks)

    def seed_batches(self) -> list[tuple[str, str, list[dict[str, Any]]]]:
        """``(label, mutation, variables...)`` in the order they must be created."""
        return [
            ("Todo", CREATE_TODO, [{"input": t} for t in self.todos]),
            ("Customer", CREATE_CUSTOMER, [{"input": c} for c in self.customers]),
            ("Project", CREATE_PROJECT, [{"input": p} for p in self.projects]),
            ("Task", CREATE_TASK, [{"input": t} for t in self.tasks]),
        ]


@dataclass(frozen=True, slots=True)
class Workload:
    name: str
    title: str
    bodies: Callable[[DataSet], list[dict[str, Any]]]  # request bodies, cycled by wrk
    check: Callable[[dict[str, Any], dict[str, Any]], str | None]  # (body sent, response) → problem
    target: float  # required ampbase/peer throughput ratio (the goal)
    # runs last this many times --seconds (the peer answers few eager requests per second)
    seconds_factor: float = 1.0

    def write_bodies(self, data: DataSet, path: Path) -> Path:
        lines = [json.dumps(b, separators=(",", ":")) for b in self.bodies(data)]
        path.write_text("\n".join(lines) + "\n")
        return path


def _get_bodies(data: DataSet) -> list[dict[str, Any]]:
    ids = [t["id"] for t in data.todos]
    random.Random(1).shuffle(ids)
    return [{"query": GET_TODO, "variables": {"id": i}} for i in ids]


def _check_get(body: dict[str, Any], response: dict[str, Any]) -> str | None:
    item = (response.get("data") or {}).get("getTodo")
    if not item or item.get("id") != body["variables"]["id"]:
        return f"getTodo returned {item!r}"
    return None


def _list_bodies(data: DataSet) -> list[dict[str, Any]]:
    return [{"query": LIST_TODOS, "variables": {"limit": LIST_LIMIT}}]


def _check_list(body: dict[str, Any], response: dict[str, Any]) -> str | None:
    items = ((response.get("data") or {}).get("listTodos") or {}).get("items")
    if not isinstance(items, list) or len(items) != LIST_LIMIT:
        return f"listTodos returned {len(items) if isinstance(items, list) else items!r} items"
    return None


def _index_bodies(data: DataSet) -> list[dict[str, Any]]:
    return [
        {"query": BY_REPRESENTATIVE, "variables": {"rep": rep, "prefix": "c-0", "limit": INDEX_LIMIT}}
        for rep in data.representatives
    ]


def _check_index(body: dict[str, Any], response: dict[str, Any]) -> str | None:
    page = (response.get("data") or {}).get("customersByRepresentative") or {}
    items = page.get("items")
    if not isinstance(items, list) or len(items) != INDEX_LIMIT:
        return f"customersByRepresentative returned {items!r}"
    names = [i["name"] for i in items]
    if names != [f"c-{j:03d}" for j in range(INDEX_LIMIT)]:
        return f"customersByRepresentative is not sorted by the sort key: {names}"
    if any(i["accountRepresentativeId"] != body["variables"]["rep"] for i in items):
        return "customersByRepresentative returned another representative's customers"
    return None


def _eager_bodies(data: DataSet) -> list[dict[str, Any]]:
    return [{"query": EAGER, "variables": {"limit": PROJECTS}}]


def _check_eager(body: dict[str, Any], response: dict[str, Any]) -> str | None:
    items = ((response.get("data") or {}).get("listProjects") or {}).get("items")
    if not isinstance(items, list) or len(items) != PROJECTS:
        return f"listProjects returned {len(items) if isinstance(items, list) else items!r} projects"
    for p in items:
        tasks = (p.get("tasks") or {}).get("items")
        if not isinstance(tasks, list) or len(tasks) != TASKS_PER_PROJECT:
            return f"project {p['id']} came with {tasks!r} tasks"
        if any(t["projectId"] != p["id"] for t in tasks):
            return f"project {p['id']} came with another project's tasks"
    return None


def _create_bodies(data: DataSet) -> list[dict[str, Any]]:
    return [
        {
            "query": CREATE_TODO,
            "variables": {
                "input": {
                    "name": f"bench-{n:05d}",
                    "description": "load test",
                    "priority": n % 10,
                    "done": False,
                }
            },
        }
        for n in range(5000)
    ]


def _check_create(body: dict[str, Any], response: dict[str, Any]) -> str | None:
    item = (response.get("data") or {}).get("createTodo")
    if not item or not item.get("id") or item.get("name") != body["variables"]["input"]["name"]:
        return f"createTodo returned {item!r}"
    return None


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload("get", "getTodo by id", _get_bodies, _check_get, 20.0),
        Workload("list", "listTodos limit 100 of 1,000", _list_bodies, _check_list, 10.0),
        Workload("index", "index query + sort key, 20 items", _index_bodies, _check_index, 10.0),
        Workload("eager", "100 parents x 10 children, one query", _eager_bodies, _check_eager, 10.0, 3.0),
        Workload("create", "createTodo", _create_bodies, _check_create, 15.0),
    )
}


def check_response(workload: Workload, body: dict[str, Any], response: dict[str, Any]) -> str | None:
    if response.get("errors") or "errorMessage" in response:
        return f"errors: {json.dumps(response)[:500]}"
    return workload.check(body, response)
