"""A byte-level BPE tokenizer trained on the miniarith corpus, in Qwen2's layout (Split regex,
ByteLevel pre-tokenizer and decoder) so the engine's tokenizer reads it like any Qwen model. The
split keeps a number with its leading space ("Ġ17"), and training runs until every word of the
corpus is one token, so a problem is a few dozen tokens."""

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

EOS = "<|endoftext|>"
SPLIT = r"'s|'t| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"


def train_tokenizer(texts: list[str]) -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(SPLIT), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=4096, special_tokens=[EOS], show_progress=False)
    tok.train_from_iterator(texts, trainer)
    return tok


def tokenizer_config() -> dict:
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "eos_token": EOS,
        "pad_token": EOS,
        "add_bos_token": False,
        "model_max_length": 256,
        "clean_up_tokenization_spaces": False,
    }
