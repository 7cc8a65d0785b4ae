"""A tiny, randomly initialised GLM checkpoint built on disk in well under a second.

It stands in for ChatGLM/GLM-4 weights (which cannot be downloaded here): same architecture class
(``GlmForCausalLM``), a byte-level BPE tokenizer trained on a few customer-service sentences, a
GLM-4-style chat template, and optionally THUDM-style remote code with a ``chat`` method. Loaded
through the real ``TransformersGenerator``, it exercises every code path except the quality of
the answers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CORPUS = [
    "你好，请问这件衣服还有货吗？",
    "我的快递什么时候能到？",
    "可以开发票吗？需要填写公司抬头。",
    "退货需要几天才能到账？",
    "优惠券怎么用？满减活动还有吗？",
    "尺码偏大还是偏小？我平时穿M码。",
    "订单已经付款了，为什么还没发货？",
    "这个颜色有现货吗，今天能发吗？",
    "收到的商品有破损，怎么申请售后？",
    "请帮我修改收货地址。",
    "Hello, is this item still in stock?",
    "When will my parcel arrive?",
    "Can I get an invoice for my order?",
    "How do I return a damaged item?",
    "Does this coupon work with the sale price?",
    "Please change my delivery address.",
]

# GLM-4's layout: [gMASK]<sop> then <|role|>\ncontent per turn, then <|assistant|>\n to answer.
GLM_CHAT_TEMPLATE = (
    "[gMASK]<sop>{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "[gMASK]", "<sop>", "<|system|>", "<|user|>", "<|assistant|>"]

# THUDM-style remote code: ChatGLM2-6B's `chat(tokenizer, query, history)` and prompt layout.
REMOTE_CHAT_MODULE = '''
from transformers import GlmForCausalLM


class TinyChatGLMForConditionalGeneration(GlmForCausalLM):
    """Mimics THUDM/chatglm2-6b: a `chat` method over a `[Round n]` prompt, no chat template."""

    def chat(self, tokenizer, query, history=None, max_length=8192, num_beams=1, do_sample=True,
             top_p=0.8, temperature=0.8, logits_processor=None, **kwargs):
        history = list(history or [])
        prompt = ""
        for i, (old_query, response) in enumerate(history):
            prompt += f"[Round {i + 1}]\\n\\n问：{old_query}\\n\\n答：{response}\\n\\n"
        prompt += f"[Round {len(history) + 1}]\\n\\n问：{query}\\n\\n答："
        inputs = tokenizer(prompt, return_tensors="pt").to(self.device)
        gen_kwargs = {"max_length": max_length, "num_beams": num_beams, "do_sample": do_sample,
                      "top_p": top_p, "temperature": temperature, **kwargs}
        outputs = self.generate(**inputs, **gen_kwargs)
        response = tokenizer.decode(outputs[0][inputs["input_ids"].shape[1]:], skip_special_tokens=True)
        return response, history + [(query, response)]
'''


def build_tiny_glm(
    folder: Path,
    *,
    chat_template: bool = True,
    always_eos: bool = False,
    remote_chat: bool = False,
    seed: int = 0,
) -> Path:
    """Write a tiny GLM checkpoint (tokenizer + weights) into ``folder``.

    Args:
        folder: Target folder (created).
        chat_template: Give the tokenizer the GLM chat template; ``False`` leaves it without one.
        always_eos: Zero the output layer so every step's argmax is token 0, the end-of-text token
            (greedy decoding then stops after one token).
        remote_chat: Add THUDM-style remote code (``auto_map`` + a modelling file with ``chat``);
            it loads only with ``trust_remote_code=True``.
        seed: Seeds the random weights.

    Returns:
        ``folder``.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GlmConfig, GlmForCausalLM, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=384,
        special_tokens=SPECIAL_TOKENS,  # ids 0..5, so <|endoftext|> is 0
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(CORPUS * 2, trainer)
    fast_tokenizer: Any = PreTrainedTokenizerFast  # untyped in transformers
    tokenizer = fast_tokenizer(
        tokenizer_object=bpe,
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=SPECIAL_TOKENS[1:],
    )
    if chat_template:
        tokenizer.chat_template = GLM_CHAT_TEMPLATE

    torch.manual_seed(seed)
    eos_id: int = tokenizer.eos_token_id
    config = GlmConfig(
        vocab_size=bpe.get_vocab_size(),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=8,
        max_position_embeddings=512,
        pad_token_id=eos_id,
        eos_token_id=eos_id,
        bos_token_id=None,
    )
    model = GlmForCausalLM(config)
    if always_eos:
        with torch.no_grad():
            model.lm_head.weight.zero_()  # all logits equal -> argmax picks id 0 (<|endoftext|>)
    folder.mkdir(parents=True, exist_ok=True)
    if remote_chat:
        (folder / "modeling_tiny_chatglm.py").write_text(REMOTE_CHAT_MODULE, encoding="utf-8")
        model.config.auto_map = {
            "AutoModelForCausalLM": "modeling_tiny_chatglm.TinyChatGLMForConditionalGeneration"
        }
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
