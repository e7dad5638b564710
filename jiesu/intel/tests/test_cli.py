"""`jiesu nlp train` and `predict` on the Teddy Cup files as they are, and bad files refused in one clear line."""

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from jiesu.intel import datasets


def teddy(name: str) -> str:
    return str(datasets.root() / datasets.TEDDY / name)


@pytest.mark.shared_data(datasets.TEDDY_LABELLED, datasets.TEDDY_UNLABELLED, datasets.TEDDY_TAXONOMY)
def test_train_and_predict_on_the_teddy_cup_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "teddy.joblib"
    call_command(
        "nlp",
        "train",
        "--input",
        teddy("附件2_示例_495条_有一级分类.xlsx"),
        "--text-cols",
        "留言主题,留言详情",
        "--label-col",
        "一级分类",
        "--model",
        str(model),
        "--unlabelled",
        teddy("附件2_官方作品测试数据_2801条_无标签.csv"),
        "--unlabelled-text-cols",
        "留言主题,留言详情",
        "--taxonomy",
        teddy("附件1_内容分类三级标签体系.csv"),
    )
    said = capsys.readouterr().out
    assert "495" in said and "2801" in said and model.exists()
    out = tmp_path / "out.csv"
    call_command(
        "nlp",
        "predict",
        "--model",
        str(model),
        "--input",
        teddy("附件2_示例_495条_有一级分类.csv"),
        "--text-cols",
        "留言主题,留言详情",
        "--output",
        str(out),
    )
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert len(rows) == 495
    assert {"留言编号", "一级分类", "predicted", "confidence", "top3"} <= set(rows[0])
    for r in rows:
        top3 = [part.split(":") for part in r["top3"].split("|")]
        assert len(top3) == 3 and top3[0][0] == r["predicted"]
        assert 0 < float(r["confidence"]) <= 1 and float(top3[0][1]) >= float(top3[1][1]) >= float(top3[2][1])
    # trained on these rows, it must reproduce most of them (held-out quality is bench/nlp_classify.py's job)
    assert sum(r["predicted"] == r["一级分类"] for r in rows) / len(rows) > 0.9


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


TWO_CLASSES = "标题,内容,类别\n暖气不热,家里暖气冰凉,供暖\n暖气漏水,暖气片漏水,供暖\n垃圾满了,垃圾桶满溢,环卫\n垃圾没人清,楼下垃圾没人清运,环卫\n"


def train(tmp_path: Path, data: Path) -> None:
    call_command(
        "nlp",
        "train",
        "--input",
        str(data),
        "--text-cols",
        "标题,内容",
        "--label-col",
        "类别",
        "--model",
        str(tmp_path / "m.joblib"),
    )


@pytest.mark.parametrize(
    ("content", "encoding", "expected"),
    [
        (TWO_CLASSES.replace("类别", "分类"), "utf-8", "找不到列：类别"),
        ("标题,内容,类别\n暖气不热,冰凉,供暖\n暖气漏水,漏水,供暖\n", "utf-8", "只有一个类别（供暖）"),
        ("标题,内容,类别\n,,供暖\n,,环卫\n", "utf-8", "没有同时有文本和标签的行"),
        ("", "utf-8", "是空文件"),
        (TWO_CLASSES, "utf-16", "不是文本文件"),
        ("标题,内容,类别\n" + "".join(f"暖气不热{i},冰凉,U{i}\n" for i in range(30)), "utf-8", "几乎每行都不同（30 类"),
    ],
)
def test_bad_files_get_one_clear_error(tmp_path: Path, content: str, encoding: str, expected: str) -> None:
    with pytest.raises(CommandError, match=expected):
        train(tmp_path, write(tmp_path / "in.csv", content, encoding))


def test_gbk_csv_and_rows_without_label_are_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write(tmp_path / "gbk.csv", TWO_CLASSES + "暖气又不热了,暖气温度低,\n,,\n", "gbk")
    train(tmp_path, data)
    said = capsys.readouterr().out
    assert "4 条有标签数据" in said and "1 条无标签数据" in said


def test_wrong_encoding_and_foreign_files(tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes("titre,texte,classe\ncafé,été,a\n".encode("latin-1"))
    with pytest.raises(CommandError, match="既不是 UTF-8 也不是 GB18030"):
        train(tmp_path, latin)
    with pytest.raises(CommandError, match="不支持的文件类型"):
        train(tmp_path, write(tmp_path / "in.json", "{}"))
    with pytest.raises(CommandError, match="不是可读取的 Excel 文件"):
        train(tmp_path, write(tmp_path / "in.xlsx", "not a workbook"))
    not_model = write(tmp_path / "x.joblib", "hello")
    with pytest.raises(CommandError, match="不是 jiesu 的模型文件"):
        call_command(
            "nlp",
            "predict",
            "--model",
            str(not_model),
            "--input",
            str(not_model),
            "--text-cols",
            "a",
            "--output",
            str(tmp_path / "o.csv"),
        )


def test_the_console_command_exits_2_without_a_traceback(tmp_path: Path) -> None:
    data = write(tmp_path / "in.csv", TWO_CLASSES)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "jiesu",
            "nlp",
            "train",
            "--input",
            str(data),
            "--text-cols",
            "标题,正文",
            "--label-col",
            "类别",
            "--model",
            str(tmp_path / "m.joblib"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 2
    assert "找不到列：正文" in run.stderr and "Traceback" not in run.stderr


def test_predict_keeps_every_row_and_leaves_empty_texts_blank(tmp_path: Path) -> None:
    train(tmp_path, write(tmp_path / "in.csv", TWO_CLASSES))
    rows_in = write(tmp_path / "new.csv", "编号,标题,内容\n1,暖气片冰凉,家里暖气不热\n2,,\n3,垃圾桶满了,没人清运垃圾\n")
    # row 2 is blank in its text columns but not wholly blank: it is kept, with empty predictions
    out = tmp_path / "out.csv"
    call_command(
        "nlp",
        "predict",
        "--model",
        str(tmp_path / "m.joblib"),
        "--input",
        str(rows_in),
        "--text-cols",
        "标题,内容",
        "--output",
        str(out),
    )
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert [r["编号"] for r in rows] == ["1", "2", "3"]
    assert [r["predicted"] for r in rows] == ["供暖", "", "环卫"]
