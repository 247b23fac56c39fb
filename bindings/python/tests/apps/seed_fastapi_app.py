# The seed's section 2 example "Running alongside FastAPI", verbatim.
# tests/test_fastapi.py runs it under uvicorn, changing only the WSE address
# (host and port of RustWSEServer) to a free loopback port.
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI
from wse_server import RustWSEServer, rust_jwt_encode

server = RustWSEServer(
    "0.0.0.0", 5007,
    max_connections=10_000,
    jwt_secret=b"replace-with-a-strong-secret-key!",
    jwt_issuer="my-app",
    jwt_audience="my-api",
    jwt_cookie_name="access_token",  # optional, default: "access_token"
)

# --- Event processing (runs in a background thread) -----------------------

users: dict[str, str] = {}  # conn_id -> user_id

def drain_loop():
    while server.is_running():
        events = server.drain_inbound(256, 50)
        for ev in events:
            event_type, conn_id, data = ev
            if event_type == "auth_connect":
                users[conn_id] = data
                server.subscribe_connection(conn_id, ["notifications"])
            elif event_type == "msg":
                handle_message(conn_id, data)
            elif event_type == "disconnect":
                users.pop(conn_id, None)

def handle_message(conn_id: str, data: dict):
    msg_type = data.get("t", "")
    if msg_type == "chat":
        server.broadcast("chat", f'{{"t":"chat","p":{{"text":"{data["p"]["text"]}"}}}}'  )

# --- FastAPI lifespan ------------------------------------------------------

@asynccontextmanager
async def lifespan(app: FastAPI):
    server.enable_drain_mode()
    server.start()
    worker = threading.Thread(target=drain_loop, daemon=True)
    worker.start()
    yield
    server.stop()

app = FastAPI(lifespan=lifespan)

@app.get("/health")
def health():
    return server.health_snapshot()

@app.post("/broadcast/{topic}")
def broadcast(topic: str, message: str):
    server.broadcast(topic, message)

@app.get("/token/{user_id}")
def get_token(user_id: str):
    import time
    token = rust_jwt_encode(
        {"sub": user_id, "iss": "my-app", "aud": "my-api",
         "exp": int(time.time()) + 3600, "iat": int(time.time())},
        b"replace-with-a-strong-secret-key!",
    )
    return {"token": token}
