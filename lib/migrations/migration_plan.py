"""Django's migration graph of one release, as greenlight's migration check reads it.

Run by a release's own python (its virtualenv, so its own Django) in the app directory, with
DJANGO_SETTINGS_MODULE and the app's configuration in the environment. It never connects to a
database: Django's MigrationLoader reads the migration files, and the migrations the live release
has applied are handed in.

    python migration_plan.py                      # the release's graph: every migration it applies
    python migration_plan.py --applied FILE       # and the plan `migrate` would run on top of FILE's

Prints one JSON document on stdout. A mistake in the settings or the migrations is one line on
stderr, and exit code 3.
"""

import argparse
import json
import os
import sys

USAGE_FAILURE = 3
# A migration's own acknowledgement that it breaks the release still serving: a short reason.
ACKNOWLEDGEMENT_ATTRIBUTE = "greenlight_accept_breaking"


def fail(message):
    sys.stderr.write("greenlight-migrations: %s\n" % " ".join(str(message).split()))
    sys.exit(USAGE_FAILURE)


def first_line(err):
    text = str(err).strip().splitlines()
    return "%s: %s" % (type(err).__name__, text[0] if text else "")


def setup_django():
    settings = os.environ.get("DJANGO_SETTINGS_MODULE", "")
    sys.path.insert(0, os.getcwd())
    try:
        import django
    except ImportError as err:
        fail("the release's python cannot import Django (%s)" % first_line(err))
    try:
        django.setup()
    except Exception as err:  # the app's settings: anything can fail there
        fail("the settings %s do not load: %s" % (settings, first_line(err)))
    return django


class GivenRecorder:
    """Stands in for MigrationRecorder: the applied migrations are the live release's, not a database's."""

    applied = {}

    def __init__(self, connection):
        pass

    def applied_migrations(self):
        return dict(self.applied)


def load_graph(applied):
    from django.db.migrations import loader as loader_module

    if applied is not None:
        GivenRecorder.applied = {key: True for key in applied}
        loader_module.MigrationRecorder = GivenRecorder
    try:
        # A connection other than None makes the loader ask the recorder; it is never used otherwise.
        return loader_module.MigrationLoader(object() if applied is not None else None, ignore_no_migrations=True)
    except Exception as err:  # a migration file is the app's code: anything can fail there
        fail("the migrations do not load: %s" % first_line(err))


def applied_after(loader):
    """What the database records once this release's migrate has run: every node, and what squashes replace."""
    keys = set(loader.graph.nodes)
    pending = list(keys)
    while pending:
        migration = loader.disk_migrations.get(pending.pop())
        for replaced in getattr(migration, "replaces", None) or []:
            replaced = tuple(replaced)
            if replaced not in keys:
                keys.add(replaced)
                pending.append(replaced)
    return sorted(keys)


def plan_on_top(loader):
    """What `migrate` (every leaf) runs on top of the applied set, in its order."""
    applied = set(loader.applied_migrations)
    plan, seen = [], set(applied)
    for target in loader.graph.leaf_nodes():
        for key in loader.graph.forwards_plan(target):
            if key not in seen:
                plan.append(key)
                seen.add(key)
    return plan


def conflicts(loader):
    return {app: sorted(names) for app, names in loader.detect_conflicts().items()}


# Facts about operations. The classification is greenlight's (TypeScript); this only reads Django.


def has_db_default(field):
    from django.db.models.fields import NOT_PROVIDED

    return getattr(field, "db_default", NOT_PROVIDED) is not NOT_PROVIDED


def field_facts(name, field):
    path = field.deconstruct()[1]
    return {
        "name": name,
        "type": path,
        "column": field.db_column or name,
        "null": bool(field.null),
        "dbDefault": has_db_default(field),
        "unique": bool(getattr(field, "_unique", False)),
        "manyToMany": bool(field.many_to_many),
        "maxLength": field.max_length,
        "maxDigits": getattr(field, "max_digits", None),
        "decimalPlaces": getattr(field, "decimal_places", None),
        "relatedTo": related_model(field),
    }


def related_model(field):
    remote = getattr(field, "remote_field", None)
    model = getattr(remote, "model", None) if remote else None
    if model is None:
        return None
    if isinstance(model, str):
        return model.lower()
    return "%s.%s" % (model._meta.app_label, model._meta.model_name)


def model_state(state, app_label, model_name):
    return state.models.get((app_label, model_name.lower()))


def old_field(state, app_label, model_name, name):
    ms = model_state(state, app_label, model_name)
    if ms is None:
        return None
    return dict(ms.fields).get(name)


def model_label(state, app_label, model_name):
    ms = model_state(state, app_label, model_name)
    return ms.name if ms is not None else model_name


def constraint_kind(constraint):
    kind = type(constraint).__name__
    if kind == "UniqueConstraint":
        return "unique"
    if kind == "CheckConstraint":
        return "check"
    return "other"


def text_excerpt(value):
    if isinstance(value, (list, tuple)):
        value = "; ".join(v if isinstance(v, str) else str(v[0]) for v in value)
    text = " ".join(str(value).split())
    return text if len(text) <= 120 else text[:117] + "..."


def describe(op, app_label, state):
    """One operation's facts against the project state just before it."""
    kind = type(op).__name__
    facts = {"operation": kind}
    if kind in ("AddField", "AlterField", "RemoveField", "RenameField"):
        model = model_label(state, app_label, op.model_name)
        facts["model"] = model
        if kind == "AddField":
            facts["field"] = op.name
            facts["new"] = field_facts(op.name, op.field)
        elif kind == "AlterField":
            facts["field"] = op.name
            facts["new"] = field_facts(op.name, op.field)
            before = old_field(state, app_label, op.model_name, op.name)
            if before is not None:
                facts["old"] = field_facts(op.name, before)
        elif kind == "RemoveField":
            facts["field"] = op.name
            before = old_field(state, app_label, op.model_name, op.name)
            if before is not None:
                facts["old"] = field_facts(op.name, before)
        else:
            facts["field"] = op.old_name
            facts["newName"] = op.new_name
            before = old_field(state, app_label, op.model_name, op.old_name)
            if before is not None:
                facts["old"] = field_facts(op.old_name, before)
                facts["new"] = field_facts(op.new_name, before)
    elif kind in ("CreateModel", "DeleteModel", "AlterModelTable", "AlterModelOptions", "AlterModelManagers"):
        facts["model"] = model_label(state, app_label, op.name) if kind != "CreateModel" else op.name
        if kind == "AlterModelTable":
            ms = model_state(state, app_label, op.name)
            facts["oldTable"] = (ms.options.get("db_table") if ms else None) or "%s_%s" % (app_label, op.name.lower())
            facts["newTable"] = op.table or "%s_%s" % (app_label, op.name.lower())
    elif kind == "RenameModel":
        facts["model"] = model_label(state, app_label, op.old_name)
        facts["newName"] = op.new_name
        ms = model_state(state, app_label, op.old_name)
        facts["keepsTable"] = bool(ms and ms.options.get("db_table"))
    elif kind in ("AlterUniqueTogether", "AlterIndexTogether", "AlterOrderWithRespectTo"):
        facts["model"] = model_label(state, app_label, op.name)
        if kind == "AlterUniqueTogether":
            ms = model_state(state, app_label, op.name)
            before = {tuple(t) for t in (ms.options.get("unique_together") or set())} if ms else set()
            after = {tuple(t) for t in (op.unique_together or set())}
            facts["addedUnique"] = [list(t) for t in sorted(after - before)]
    elif kind in ("AddConstraint", "RemoveConstraint", "AddIndex", "RemoveIndex", "RenameIndex", "AddIndexConcurrently", "RemoveIndexConcurrently", "AddConstraintNotValid", "ValidateConstraint"):
        facts["model"] = model_label(state, app_label, op.model_name)
        constraint = getattr(op, "constraint", None)
        if constraint is not None:
            facts["constraint"] = {"name": constraint.name, "kind": constraint_kind(constraint), "fields": list(getattr(constraint, "fields", ()) or ())}
        else:
            facts["name"] = getattr(op, "name", None) or getattr(getattr(op, "index", None), "name", None)
    elif kind == "RunSQL":
        facts["sql"] = text_excerpt(op.sql)
    elif kind == "RunPython":
        code = op.code
        facts["code"] = "%s.%s" % (getattr(code, "__module__", "?"), getattr(code, "__qualname__", getattr(code, "__name__", "?")))
    return facts


def describe_all(operations, app_label, state):
    """Each operation's facts, moving the state forward as migrate does; SeparateDatabaseAndState's
    database operations are what reach the database."""
    out = []
    for op in operations:
        if type(op).__name__ == "SeparateDatabaseAndState":
            out.extend(describe_all(op.database_operations, app_label, state.clone()))
        else:
            out.append(describe(op, app_label, state))
        op.state_forwards(app_label, state)
    return out


def migration_facts(loader, key):
    migration = loader.graph.nodes[key]
    state = loader.project_state(key, at_end=False)
    acknowledged = getattr(migration, ACKNOWLEDGEMENT_ATTRIBUTE, None)
    return {
        "app": key[0],
        "name": key[1],
        "replaces": [list(r) for r in (migration.replaces or [])],
        "merge": len([d for d in migration.dependencies if d[0] == key[0]]) > 1 and not migration.operations,
        "acknowledged": str(acknowledged) if acknowledged else None,
        "operations": describe_all(migration.operations, key[0], state),
    }


def main():
    # The JSON document alone on stdout: whatever the app's settings or migrations print goes to stderr.
    out, sys.stdout = sys.stdout, sys.stderr
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--applied", help="JSON file: the [app, name] pairs the live release has applied")
    args = parser.parse_args()
    applied = None
    if args.applied:
        with open(args.applied, encoding="utf-8") as f:
            applied = [tuple(pair) for pair in json.load(f)]
    django = setup_django()
    loader = load_graph(applied)
    result = {"django": django.get_version(), "applied": [list(k) for k in applied_after(loader)], "conflicts": conflicts(loader)}
    if applied is not None:
        try:
            result["plan"] = [migration_facts(loader, key) for key in plan_on_top(loader)]
        except Exception as err:
            fail("the migrations do not load: %s" % first_line(err))
    json.dump(result, out)
    out.write("\n")


if __name__ == "__main__":
    main()
