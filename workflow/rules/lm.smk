rule lm_corpus:
    output:
        train=expand(f"{LM_ROOT}/tokens/train{{shard}}.npy", shard=LM_SHARDS),
        val=f"{LM_ROOT}/tokens/val.npy",
        vocab=f"{LM_ROOT}/tokens/token_ids.npy",
        meta=f"{LM_ROOT}/tokens/meta.json",
    log:
        f"{LM_ROOT}/logs/corpus.log",
    conda:
        "../../envs/dsb.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        corpus=LM["corpus"],
        tokenizer=LM["tokenizer"],
    script:
        "../scripts/lm_corpus.py"


rule lm_count_shard:
    input:
        shard=f"{LM_ROOT}/tokens/train{{shard}}.npy",
        meta=rules.lm_corpus.output.meta,
    output:
        counts=f"{LM_ROOT}/ngrams/shard{{shard}}.npz",
    log:
        f"{LM_ROOT}/logs/count_shard{{shard}}.log",
    conda:
        "../../envs/dsb.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        block_pairs=LM["ngrams"]["block_pairs"],
    script:
        "../scripts/lm_count.py"


rule lm_merge_counts:
    input:
        shards=expand(rules.lm_count_shard.output.counts, shard=LM_SHARDS),
        meta=rules.lm_corpus.output.meta,
    output:
        counts=f"{LM_ROOT}/ngrams/counts.npz",
        entropy=f"{LM_ROOT}/ngrams/entropy.json",
    log:
        f"{LM_ROOT}/logs/merge_counts.log",
    conda:
        "../../envs/dsb.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    script:
        "../scripts/lm_merge_counts.py"


rule lm_suffix_index:
    input:
        train=rules.lm_corpus.output.train,
    output:
        tokens=f"{LM_ROOT}/ngrams/train.bin",
        index=f"{LM_ROOT}/ngrams/train.idx",
    log:
        f"{LM_ROOT}/logs/suffix_index.log",
    conda:
        "../../envs/dsb.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=120,
    script:
        "../scripts/lm_suffix_index.py"


rule lm_sequences:
    input:
        counts=rules.lm_merge_counts.output.counts,
        index=lambda w: rules.lm_suffix_index.output if int(w.order) >= 3 else [],
    output:
        seqs=f"{LM_ROOT}/sequences/ngram{{order}}.npy",
    log:
        f"{LM_ROOT}/logs/sequences_ngram{{order}}.log",
    conda:
        "../../envs/dsb.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        n=LM["ngrams"]["n_sequences"],
        length=LM["ngrams"]["length"],
        seed=LM["ngrams"]["seed"],
    script:
        "../scripts/lm_sequences.py"


rule lm_train:
    input:
        train=rules.lm_corpus.output.train,
        vocab=rules.lm_corpus.output.vocab,
    output:
        model=directory(f"{LM_ROOT}/models/{{lm_model}}"),
        log=f"{LM_ROOT}/train/{{lm_model}}.parquet",
    log:
        f"{LM_ROOT}/logs/train_{{lm_model}}.log",
    benchmark:
        f"{LM_ROOT}/benchmarks/train_{{lm_model}}.tsv"
    conda:
        "../../envs/dsb.yaml"
    threads: LM_TRAIN["threads"]
    resources:
        mem_mb=4000,
        runtime=120,
        gpu=1 if LM_TRAIN["device"] == "cuda" else 0,
    params:
        shape=lambda w: lm_train_sizes()[lm_models()[w.lm_model]["size"]],
        seed=lambda w: lm_models()[w.lm_model]["seed"],
        recipe=lambda w: lm_train_recipe(w.lm_model),
    script:
        "../scripts/lm_train.py"


rule lm_evaluate:
    input:
        model=lm_model_input,
        seqs=expand(rules.lm_sequences.output.seqs, order=LM_ORDERS),
        counts=rules.lm_merge_counts.output.counts,
        val=rules.lm_corpus.output.val,
        meta=rules.lm_corpus.output.meta,
    output:
        loss=f"{LM_ROOT}/eval/{{lm_model}}/loss.parquet",
        position=f"{LM_ROOT}/eval/{{lm_model}}/position.parquet",
        kl=f"{LM_ROOT}/eval/{{lm_model}}/kl.parquet",
    log:
        f"{LM_ROOT}/logs/evaluate_{{lm_model}}.log",
    benchmark:
        f"{LM_ROOT}/benchmarks/evaluate_{{lm_model}}.tsv"
    conda:
        "../../envs/dsb.yaml"
    threads: LM["eval"]["threads"]
    resources:
        mem_mb=16000,
        runtime=240,
        gpu=1 if LM["eval"]["device"] == "cuda" else 0,
    params:
        source=lambda w: (
            f"{LM_ROOT}/models/{w.lm_model}"
            if LM["models"]["source"] == "train"
            else f"{LM_PYTHIA['owner']}/{w.lm_model}"
        ),
        labels=lambda w: {"model": w.lm_model, **lm_models()[w.lm_model]},
        steps=lm_steps(),
        orders=LM_ORDERS,
        n_windows=LM["ngrams"]["n_windows"],
        length=LM["ngrams"]["length"],
        eval=LM["eval"],
    script:
        "../scripts/lm_evaluate.py"


rule lm_collect:
    input:
        loss=expand(rules.lm_evaluate.output.loss, lm_model=lm_models()),
        position=expand(rules.lm_evaluate.output.position, lm_model=lm_models()),
        kl=expand(rules.lm_evaluate.output.kl, lm_model=lm_models()),
    output:
        loss=f"{LM_ROOT}/loss.parquet",
        position=f"{LM_ROOT}/position.parquet",
        kl=f"{LM_ROOT}/kl.parquet",
    log:
        f"{LM_ROOT}/logs/collect.log",
    conda:
        "../../envs/dsb.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    script:
        "../scripts/lm_collect.py"


# One rule per figure, named after it: `snakemake lm_ngram_loss` draws that figure alone.
for _figure in [
    "lm_ngram_loss",
    "lm_kl",
    "lm_loss_by_position",
    "lm_seeds",
    "lm_warmup",
]:

    rule:
        name:
            _figure
        input:
            loss=rules.lm_collect.output.loss,
            position=rules.lm_collect.output.position,
            kl=rules.lm_collect.output.kl,
            entropy=rules.lm_merge_counts.output.entropy,
        output:
            png=report(
                f"results/figures/{_figure}.png",
                caption=f"../report/{_figure}.rst",
                category="language models",
            ),
            pdf=f"results/figures/{_figure}.pdf",
        log:
            f"results/logs/plots/{_figure}.log",
        conda:
            "../../envs/dsb.yaml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=10,
        params:
            figure=_figure,
            position_steps=LM["plots"]["position_steps"],
            dpi=LM["plots"]["dpi"],
        script:
            "../scripts/lm_figure.py"
