"""A client of server reflection as current tools speak it: ``grpc.reflection.v1`` first.

The request and response bytes of v1 are those of v1alpha (the same messages and field numbers under another
package), so v1alpha's classes encode them; the method path is v1's, which a server that knows only v1alpha
answers UNIMPLEMENTED.
"""

from __future__ import annotations

import grpc
from google.protobuf import descriptor_pb2
from grpc_reflection.v1alpha import reflection_pb2

V1_METHOD = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"


async def reflect_v1(
    channel: grpc.aio.Channel, *requests: reflection_pb2.ServerReflectionRequest
) -> list[reflection_pb2.ServerReflectionResponse]:
    call = channel.stream_stream(
        V1_METHOD,
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    return [response async for response in call(iter(requests), timeout=10)]


async def v1_services(channel: grpc.aio.Channel) -> set[str]:
    [answer] = await reflect_v1(channel, reflection_pb2.ServerReflectionRequest(list_services=""))
    return {service.name for service in answer.list_services_response.service}


async def v1_files_of(channel: grpc.aio.Channel, symbol: str) -> dict[str, descriptor_pb2.FileDescriptorProto]:
    """The file declaring ``symbol`` with its dependencies, by file name, as a v1 client receives them."""
    [answer] = await reflect_v1(channel, reflection_pb2.ServerReflectionRequest(file_containing_symbol=symbol))
    assert answer.HasField("file_descriptor_response"), answer.error_response
    files = [
        descriptor_pb2.FileDescriptorProto.FromString(b) for b in answer.file_descriptor_response.file_descriptor_proto
    ]
    return {file.name: file for file in files}
