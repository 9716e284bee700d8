"""Time of one language-model training step, four ways, in the same run.

The model is the default CPU one (GPT-NeoX, 2 layers, width 128) over a vocabulary of the size
that the Shakespeare text leaves after the cut (18.3k tokens), batch 16 x 128. The baseline is
the plain recipe: the model's logits and ``F.cross_entropy`` in float32. Against it: bfloat16
autocast of the same; the output layer fused with the loss in row chunks (dsb.lm.loss) in
float32; and the fused loss with bfloat16 matrix products (the pipeline's default). Each way
also reports the loss after the same steps on the same batches from the same start.

    python benchmarks/bench_lm_step.py [--steps 30] [--threads 2] [--vocab 18327] [--device cuda]
"""

import argparse
import time

import torch
import torch.nn.functional as F

from dsb.lm.loss import linear_cross_entropy
from dsb.lm.train import TrainConfig, build_model


def run(way: str, args, batches) -> tuple[float, float]:
    torch.manual_seed(0)
    model = build_model(TrainConfig(), args.vocab).to(args.device)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, foreach=True)
    bf16 = way.endswith("bf16")
    for i, batch in enumerate(batches):
        if i == args.warmup:
            synchronize(args.device)
            start = time.perf_counter()
        batch = batch.to(args.device)
        with torch.autocast(torch.device(args.device).type, torch.bfloat16, enabled=bf16):
            if way.startswith("fused"):
                hidden = model.base_model(batch[:, :-1]).last_hidden_state
            else:
                logits = model(batch[:, :-1]).logits
        if way.startswith("fused"):
            loss = linear_cross_entropy(
                hidden.float().flatten(0, 1),
                model.get_output_embeddings().weight,
                batch[:, 1:].flatten(),
                dtype=torch.bfloat16 if bf16 else torch.float32,
            )
        else:
            loss = F.cross_entropy(logits.float().flatten(0, 1), batch[:, 1:].flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    synchronize(args.device)
    return (time.perf_counter() - start) / (len(batches) - args.warmup), loss.item()


def synchronize(device: str) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--vocab", type=int, default=18327)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    gen = torch.Generator().manual_seed(1)
    # Zipf-like token stream, so that the loss falls as it does on text
    weights = 1.0 / torch.arange(1, args.vocab + 1, dtype=torch.float64)
    batches = [
        torch.multinomial(weights, 16 * 129, replacement=True, generator=gen).view(16, 129)
        for _ in range(args.warmup + args.steps)
    ]
    ways = ["plain fp32", "plain bf16", "fused fp32", "fused bf16"]
    results = {way: run(way, args, batches) for way in ways}
    base = results["plain fp32"][0]
    print(
        f"{args.steps} timed steps, batch 16 x 128, vocabulary {args.vocab}, {args.threads} threads"
    )
    for way, (seconds, loss) in results.items():
        print(
            f"  {way:11s} {seconds * 1000:7.1f} ms/step  {base / seconds:5.2f}x  "
            f"loss after {len(batches)} steps {loss:.4f}"
        )


if __name__ == "__main__":
    main()
