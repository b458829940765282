"""peftspec: declarative PEFT fine-tuning for text classification.

The spec layer (``peftspec.spec``) imports no torch, transformers or peft, so
``peftspec lint`` starts fast.
"""

__version__ = "0.1.0"
