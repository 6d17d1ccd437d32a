"""The peer a Python user would build: FastAPI + uvicorn serving the same fastText
model file through the fasttext Python bindings, with the same preprocessing and
the same response shape as closedloop's /v1/predict (minus the prediction log).

Run: MODEL=path/to/model.bin python3 -m uvicorn fastapi_peer:app --port 8001 --workers 2
"""
import os
import re
import time
import uuid

import fasttext
import numpy as np
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

# fasttext 0.9.2's predict() calls np.array(..., copy=False), which NumPy 2 rejects.
if np.__version__.startswith("2"):
    _np_array = np.array
    np.array = lambda obj, *a, copy=False, **k: np.asarray(obj, *a, **k)  # noqa: E731

MODEL = fasttext.load_model(os.environ["MODEL"])
PREFIX = "__label__"
_PUNCT = re.compile(r"([^\w\s'\-\u0080-\U0010ffff])")


def normalize(text: str) -> str:
    # Same rules as closedloop's NormalizeText: lowercase ASCII, split punctuation.
    text = text.translate({c: c + 32 for c in range(ord("A"), ord("Z") + 1)})
    text = _PUNCT.sub(r" \1 ", text)
    return " ".join(text.split())


class PredictRequest(BaseModel):
    model: str
    text: str
    top_k: int = 5


app = FastAPI()


@app.post("/v1/predict")
def predict(req: PredictRequest):
    start = time.perf_counter()
    if not req.text.strip():
        raise HTTPException(status_code=400, detail="field 'text' must not be empty")
    labels, probs = MODEL.predict(normalize(req.text), k=req.top_k)
    top = [{"label": l[len(PREFIX):], "p": float(p)} for l, p in zip(labels, probs)]
    return {
        "request_id": str(uuid.uuid4()),
        "model": req.model,
        "version": "1",
        "label": top[0]["label"],
        "confidence": top[0]["p"],
        "top_k": top,
        "latency_ms": (time.perf_counter() - start) * 1000,
    }
