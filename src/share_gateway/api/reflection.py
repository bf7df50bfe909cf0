"""Server reflection under both names clients ask for: ``grpc.reflection.v1`` (current grpcurl, Postman and the
other languages' tools ask for it first) and ``grpc.reflection.v1alpha`` (older clients).

grpcio-reflection ships only v1alpha. v1 is the same protocol promoted: the same messages with the same field
numbers under another package. So one servicer answers both, and v1's file descriptor is derived from v1alpha's
(package and type names renamed), so that v1 can describe itself like any served service.
"""

from __future__ import annotations

from collections.abc import Iterable

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import reflection
from grpc_reflection.v1alpha import reflection_pb2 as v1alpha

V1_PACKAGE = "grpc.reflection.v1"
V1_FILE = "grpc/reflection/v1/reflection.proto"
V1_SERVICE = f"{V1_PACKAGE}.ServerReflection"
V1ALPHA_SERVICE: str = reflection.SERVICE_NAME
REFLECTION_SERVICES = (V1_SERVICE, V1ALPHA_SERVICE)


def _v1_descriptor() -> None:
    """Add v1's file to the default pool (which reflection answers from), once per process."""
    pool = descriptor_pool.Default()
    try:
        pool.FindFileByName(V1_FILE)
    except KeyError:
        pass
    else:
        return
    proto = descriptor_pb2.FileDescriptorProto()
    v1alpha.DESCRIPTOR.CopyToProto(proto)
    old, new = f".{v1alpha.DESCRIPTOR.package}.", f".{V1_PACKAGE}."
    proto.name, proto.package = V1_FILE, V1_PACKAGE
    proto.ClearField("options")  # v1alpha's language options name its own packages
    for message in proto.message_type:
        for field in message.field:
            if field.HasField("type_name"):  # a scalar has none, and must not get an empty one
                field.type_name = field.type_name.replace(old, new)
    for service in proto.service:
        for method in service.method:
            method.input_type = method.input_type.replace(old, new)
            method.output_type = method.output_type.replace(old, new)
    pool.AddSerializedFile(proto.SerializeToString())


def serve_reflection(server: grpc.aio.Server, services: Iterable[str]) -> None:
    """Reflect ``services`` and both reflection services on ``server``, v1 and v1alpha answered by one servicer."""
    _v1_descriptor()
    names = (*services, *REFLECTION_SERVICES)
    servicer = reflection.aio.ReflectionServicer(names)
    methods = {
        "ServerReflectionInfo": grpc.stream_stream_rpc_method_handler(
            servicer.ServerReflectionInfo,
            request_deserializer=v1alpha.ServerReflectionRequest.FromString,
            response_serializer=v1alpha.ServerReflectionResponse.SerializeToString,
        )
    }
    server.add_generic_rpc_handlers(
        tuple(grpc.method_handlers_generic_handler(name, methods) for name in REFLECTION_SERVICES)
    )
