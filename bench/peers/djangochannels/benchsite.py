# The fan-out benchmark's Django Channels peer: an ASGI app for daphne whose
# WebSocket consumer joins the group "bench" and relays every text message it
# receives to the group (group_send), through channels_redis on the Redis named by
# BENCH_REDIS (HOST:PORT). Run: BENCH_REDIS=127.0.0.1:6379 daphne -b 127.0.0.1 -p PORT benchsite:application
import os

import django
from django.conf import settings

host, port = os.environ.get("BENCH_REDIS", "127.0.0.1:6379").split(":")
settings.configure(
    DEBUG=False,
    SECRET_KEY="bench",
    ALLOWED_HOSTS=["*"],
    INSTALLED_APPS=["channels"],
    CHANNEL_LAYERS={
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # capacity: messages per member channel before channels_redis drops;
            # large enough for a benchmark round.
            "CONFIG": {"hosts": [(host, int(port))], "capacity": 1000},
        }
    },
)
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402


class Bench(AsyncWebsocketConsumer):
    async def connect(self):
        await self.channel_layer.group_add("bench", self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard("bench", self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        await self.channel_layer.group_send("bench", {"type": "bench.message", "text": text_data})

    async def bench_message(self, event):
        await self.send(text_data=event["text"])


application = ProtocolTypeRouter({"websocket": URLRouter([path("ws", Bench.as_asgi())])})
