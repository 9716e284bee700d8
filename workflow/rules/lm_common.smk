# Names and input functions of the language-model branch (rules in lm.smk).
LM = config["lm"]
LM_ROOT = f"results/lm/{LM['corpus']['name']}"
LM_SHARDS = list(range(LM["corpus"]["n_shards"]))
LM_ORDERS = LM["ngrams"]["orders"]
LM_TRAIN = LM["models"]["train"]
LM_PYTHIA = LM["models"]["pythia"]


def lm_train_sizes():
    """{name: shape} of the models trained here, named <n_layer>x<d_model>."""
    sizes = {f"{s['n_layer']}x{s['d_model']}": s for s in LM_TRAIN["sizes"]}
    if len(sizes) < len(LM_TRAIN["sizes"]):
        raise ValueError("lm.models.train.sizes: two shapes share n_layer and d_model")
    for name, s in sizes.items():
        if s["d_model"] % s["n_head"]:
            raise ValueError(
                f"lm.models.train.sizes: {name} has d_model not divisible by n_head"
            )
    return sizes


def lm_models():
    """{model id: labels} of every model followed along training."""
    if LM["models"]["source"] == "train":
        models = {}
        for size in lm_train_sizes():
            for seed in LM_TRAIN["seeds"]:
                name = f"neox-{size}-seed{seed}"
                models[name] = dict(size=size, seed=seed, variant="standard")
                for k in LM_TRAIN["warmup_variants"]:
                    models[f"{name}-warmup{k}"] = dict(
                        size=size, seed=seed, variant=f"warmup{k}"
                    )
        return models
    models = {
        f"pythia-{s}": dict(size=s, seed=0, variant="standard")
        for s in LM_PYTHIA["sizes"]
    }
    for size, seeds in LM_PYTHIA["seeds"].items():
        for k in seeds:
            models[f"pythia-{size}-seed{k}"] = dict(
                size=size, seed=k, variant="standard"
            )
    for size in LM_PYTHIA["warmup"]:
        models[f"pythia-{size}-warmup01"] = dict(size=size, seed=0, variant="warmup01")
    return models


def lm_train_recipe(model):
    """The training settings of one model trained here: the config's, with the warm-up of its
    variant."""
    recipe = {
        k: v
        for k, v in LM_TRAIN.items()
        if k not in ("sizes", "seeds", "threads", "warmup_variants")
    }
    variant = lm_models()[model]["variant"]
    if variant.startswith("warmup"):
        recipe["warmup_steps"] = int(variant.removeprefix("warmup"))
    return recipe


def lm_steps():
    if LM["models"]["source"] == "train":
        return [0] + [2**k for k in range(LM_TRAIN["max_steps"].bit_length())]
    return LM_PYTHIA["steps"]


def lm_figures():
    names = ["lm_ngram_loss", "lm_kl", "lm_loss_by_position"]
    models = lm_models().values()
    if len({m["seed"] for m in models}) > 1:
        names.append("lm_seeds")
    if any(m["variant"] != "standard" for m in models):
        names.append("lm_warmup")
    return names


def lm_targets():
    return expand("results/figures/{name}.{ext}", name=lm_figures(), ext=["png", "pdf"])


wildcard_constraints:
    lm_model="|".join(lm_models()),
    shard=r"\d+",
    order=r"\d+",


def lm_model_input(wildcards):
    if LM["models"]["source"] == "train":
        return f"{LM_ROOT}/models/{wildcards.lm_model}"
    return []
