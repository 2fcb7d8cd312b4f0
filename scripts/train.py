"""Train a tokenizer and an LSTM classifier, evaluate it and save the model folder.

accelerate launch scripts/train.py --config configs/emotion.yaml
python scripts/train.py --train_file data.csv --output_dir out/my-model
"""

import sys

from modeling_lstm.cli import run_cli
from modeling_lstm.training import main

if __name__ == "__main__":
    sys.exit(run_cli(main))
