"""Media in a thread, offline: an image sent once is stored once (a content-addressed
blob beside the messages) and the next run on the thread sends it to the model again.

Run it:  python examples/thread_media.py
"""

from __future__ import annotations

import sqlite3
import tempfile
from contextlib import closing

import anyio

import plait
from plait.testing import ScriptedModel

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64  # stands in for a 16 KB photo


async def main(folder: str) -> None:
    store = f"sqlite:///{folder}/plait.db"
    photo = plait.Image.from_bytes(PNG, name="cat.png")

    # 1. Ask about the image, twice, on one thread: the bytes are stored once.
    for question in ("What is this?", "Look again: what is this?"):
        await plait.arun(
            [plait.Text(question), photo], model=ScriptedModel(["A cat."]), thread="pics",
            store=store,
        )  # fmt: skip

    # 2. A later run on the thread passes no image: the model gets it from the store.
    model = ScriptedModel(["Grey, with green eyes."])
    result = await plait.arun("What colour is it?", model=model, thread="pics", store=store)
    seen = [
        part
        for message in model.requests[0].messages
        if isinstance(message, plait.UserMessage) and not isinstance(message.content, str)
        for part in message.content
        if isinstance(part, plait.Image)
    ]
    print(f"{result.output} (the model saw {len(seen)} images of {len(seen[0].data or b'')} bytes)")

    with closing(sqlite3.connect(f"{folder}/plait.db")) as db:
        blobs = db.execute("SELECT key, size FROM plait_blobs").fetchall()
        largest = db.execute("SELECT MAX(LENGTH(payload)) FROM plait_messages").fetchone()[0]
    print(f"stored: {len(blobs)} blob of {blobs[0][1]} bytes; largest message: {largest} bytes")

    # 3. Deleting the thread deletes the blob no other thread uses.
    await plait.Thread("pics", store=store).adelete()
    with closing(sqlite3.connect(f"{folder}/plait.db")) as db:
        left = db.execute("SELECT COUNT(*) FROM plait_blobs").fetchone()[0]
    print(f"after deleting the thread: {left} blobs")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        anyio.run(main, folder)
