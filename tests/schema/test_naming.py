from __future__ import annotations

import hashlib

import pytest

from ampbase.schema import naming


@pytest.mark.parametrize(
    ("singular", "plural"),
    [
        ("Todo", "Todos"),
        ("Person", "People"),
        ("StoreBranch", "StoreBranches"),
        ("Salary", "Salaries"),
        ("ReadOnly", "ReadOnlies"),
        ("Child", "Children"),
        ("Index", "Indices"),
        ("Box", "Boxes"),
        ("Leaf", "Leaves"),
        ("Category", "Categories"),
        ("Status", "Statuses"),
        ("Data", "Data"),
        ("Equipment", "Equipment"),
        ("Series", "Series"),
        ("News", "News"),
        ("Sheep", "Sheep"),
        ("PostTag", "PostTags"),
        ("PostTags", "PostTags"),
        ("Mixed", "Mixeds"),
        ("Project2", "Project2s"),
        ("AuthenticatedIam", "AuthenticatedIam"),
        ("UserProfileHistory", "UserProfileHistories"),
        ("Address", "Addresses"),
        ("Quiz", "Quizzes"),
        ("Analysis", "Analyses"),
        ("Wife", "Wives"),
        ("Hero", "Heroes"),
        ("Goldfish", "Goldfish"),
    ],
)
def test_pluralize_follows_npm_pluralize_on_the_whole_name(singular: str, plural: str) -> None:
    assert naming.pluralize(singular) == plural


def test_pluralize_of_blank_is_empty() -> None:
    assert naming.pluralize("  ") == ""


def test_operation_names_are_camel_case_joins() -> None:
    assert naming.get_query("StoreBranch") == "getStoreBranch"
    assert naming.list_query("Person") == "listPeople"
    assert naming.create_mutation("Todo") == "createTodo"
    assert naming.update_mutation("Todo") == "updateTodo"
    assert naming.delete_mutation("Todo") == "deleteTodo"
    assert naming.on_create_subscription("Todo") == "onCreateTodo"


def test_subscription_names_over_fifty_characters_are_cut_with_an_md5_suffix() -> None:
    model = "AVeryLongModelNameThatGoesBeyondTheSubscriptionNameLimit"
    full = "onCreate" + model
    expected = full[:45] + hashlib.md5(full.encode()).hexdigest()[:5]
    assert (
        naming.on_create_subscription(model)
        == expected
        == "onCreateAVeryLongModelNameThatGoesBeyondTheSu2410f"
    )
    assert naming.on_delete_subscription(model) == "onDeleteAVeryLongModelNameThatGoesBeyondTheSu57151"
    assert naming.subscription_name("x" * 50) == "x" * 50


def test_input_and_connection_type_names() -> None:
    assert naming.connection_type("Todo") == "ModelTodoConnection"
    assert naming.filter_input("Todo") == "ModelTodoFilterInput"
    assert naming.condition_input("Todo") == "ModelTodoConditionInput"
    assert naming.subscription_filter_input("Todo") == "ModelSubscriptionTodoFilterInput"
    assert naming.create_input("Todo") == "CreateTodoInput"
    assert naming.update_input("Todo") == "UpdateTodoInput"
    assert naming.delete_input("Todo") == "DeleteTodoInput"
    assert naming.enum_filter_input("Priority") == "ModelPriorityInput"
    assert naming.enum_list_filter_input("Priority") == "ModelPriorityListInput"
    assert naming.key_condition_input("String") == "ModelStringKeyConditionInput"
    assert naming.non_model_input("Location") == "LocationInput"


def test_composite_key_names() -> None:
    assert naming.composite_key_argument(["country", "city"]) == "countryCity"
    assert naming.composite_key_argument(["status"]) == "status"
    assert (
        naming.composite_key_condition_input("StoreBranch", None)
        == "ModelStoreBranchPrimaryCompositeKeyConditionInput"
    )
    assert naming.composite_key_input("Order", "byCustomer") == "ModelOrderByCustomerCompositeKeyInput"


def test_default_index_names_and_query_fields() -> None:
    assert naming.default_index_name("Customer", ["email"]) == "customersByEmail"
    assert naming.default_index_name("Order", ["warehouseId", "total"]) == "ordersByWarehouseIdAndTotal"
    assert naming.gen2_index_query_field("Order", ["status", "placedAt", "total"]) == (
        "listOrderByStatusAndPlacedAtAndTotal"
    )
    assert naming.default_relation_index_name("Post", "comments") == "gsi-Post.comments"


def test_implicit_relationship_key_names() -> None:
    assert naming.implicit_has_many_key("Post", "comments", "id") == "postCommentsId"
    assert naming.implicit_has_many_key("Shelf", "books", "store") == "shelfBooksStore"
    assert naming.implicit_has_one_key("Project", "team", "id") == "projectTeamId"
    assert naming.implicit_has_one_key("Team2", "project", "id") == "team2ProjectId"


def test_many_to_many_join_names() -> None:
    assert naming.join_model_field("Post") == "post"
    assert naming.join_model_index_name("Post") == "byPost"
    assert naming.join_model_query_field("PostTags", "Post") == "postTagsByPostId"
