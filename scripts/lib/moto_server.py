"""moto's server, with each DynamoDB operation run under one lock.

DynamoDB applies a conditional write atomically; moto's threaded server
evaluates the condition and applies the update as separate Python steps, so two
racing requests can both pass one condition (seen here: 7 of 50 concurrent
guesses passed a "5 attempts left" condition). Serialising the backend's
operations restores the guarantee the bundle relies on, without replacing
moto: requests still arrive in parallel over HTTP and are answered by moto.
It also stops moto from keeping every DynamoDB object it ever made for its
debug dump (/moto-api/data.json): the dump is where the local stack reads
mail, and with tens of thousands of items it took minutes and the memory grew
without end. The DynamoDB API itself is untouched.

Usage: python moto_server.py -H 127.0.0.1 -p 5000 (the same flags as moto_server).
"""

import functools
import threading

from moto.dynamodb.models import DynamoDBBackend

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
