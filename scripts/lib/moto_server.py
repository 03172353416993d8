"""moto's server, with each DynamoDB operation run under one lock.

DynamoDB applies a conditional write atomically; moto's threaded server
evaluates the condition and applies the update as separate Python steps, so two
racing requests can both pass one condition (seen here: 7 of 50 concurrent
guesses passed a "5 attempts left" condition). Serialising the backend's
operations restores the guarantee the bundle relies on, without replacing
moto: requests still arrive in parallel over HTTP and are answered by moto.
A failed transaction is rolled back item by item: moto's own rollback keeps
a deep copy of the whole table (stream included) per operation of the
transaction, which made a 2,000-member enterprise take hours to seed.

It also stops moto from keeping every DynamoDB object it ever made for its
debug dump (/moto-api/data.json): the dump is where the local stack reads
mail, and with tens of thousands of items it took minutes and the memory grew
without end. The DynamoDB API itself is untouched.

Usage: python moto_server.py -H 127.0.0.1 -p 5000 (the same flags as moto_server).
"""

import copy
import functools
import threading

import moto.dynamodb.models as _models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

_lock = threading.RLock()

_OPERATIONS = [
    "put_item", "update_item", "delete_item", "get_item", "query", "scan",
    "transact_write_items", "transact_get_items", "batch_get_item",
    "create_table", "delete_table", "update_table", "describe_table",
]


def _serialised(method):
    @functools.wraps(method)
    def run(self, *args, **kwargs):
        with _lock:
            return method(self, *args, **kwargs)
    return run


for _name in _OPERATIONS:
    if hasattr(DynamoDBBackend, _name):
        setattr(DynamoDBBackend, _name, _serialised(getattr(DynamoDBBackend, _name)))


class _CopyAllButTables:
    """moto's module-level `copy`, except that a Table is not copied (see _transact_write_items)."""

    @staticmethod
    def deepcopy(obj, *args, **kwargs):
        return obj if isinstance(obj, Table) else copy.deepcopy(obj, *args, **kwargs)


_models.copy = _CopyAllButTables
_moto_transact_write_items = DynamoDBBackend.transact_write_items


def _transact_write_items(self, transact_items):
    saved = []
    for entry in transact_items:
        op = next(iter(entry.values()), {})
        table = self.tables.get(op.get("TableName"))
        key = op.get("Key") or op.get("Item") or {}
        if table is None or table.hash_key_attr not in key:
            continue
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
        saved.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
    try:
        return _moto_transact_write_items(self, transact_items)
    except Exception:
        for table, hash_key, range_key, old in reversed(saved):
            if range_key is None:
                if old is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = old
            elif old is None:
                table.items[hash_key].pop(range_key, None)
            else:
                table.items[hash_key][range_key] = old
        raise


DynamoDBBackend.transact_write_items = _serialised(_transact_write_items)


class _Untracked(list):
    """An instance list that keeps nothing."""

    def append(self, _instance):
        pass


from moto.core.model_instances import model_data  # noqa: E402

for _service in ("dynamodb", "dynamodbstreams"):
    for _cls in model_data.pop(_service, {}).values():
        _cls.instances_tracked = _Untracked()

if __name__ == "__main__":
    from moto.server import main
    main()
