"""Settings: the shipped file loads, every key is documented, and every mistake is one clear message."""

import re
import subprocess
import sys
from dataclasses import fields
from decimal import Decimal
from pathlib import Path

import pytest

from core.settings import (
    CATEGORY_KEYS,
    GENRE_KEYS,
    SCHEMA,
    SECTION_CLASSES,
    UNIT_KEYS,
    SettingsError,
    load_settings,
    markdown_table,
)

pytestmark = pytest.mark.no_database  # the PostgreSQL pass of make test leaves it out

REPO = Path(__file__).resolve().parents[2]
MINIMAL = """
[organization]
name = "Đảng ủy Khối thử nghiệm"
[mailbox]
backend = "maildir"
path = "mail"
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "settings.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_shipped_settings_load() -> None:
    s = load_settings(REPO / "settings.toml")
    assert s.organization.timezone == "Asia/Ho_Chi_Minh"
    assert s.mailbox.subject_marker == "BÀI CỘNG TÁC"
    assert s.smtp is None  # mail stays queued by default
    assert len(s.units) >= 5


def test_every_key_is_documented_in_settings_toml_and_readme() -> None:
    shipped = (REPO / "settings.toml").read_text(encoding="utf-8")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for section, keys in SCHEMA.items():
        assert f"[{section}]" in shipped, section
        for key in keys:
            assert re.search(rf"^#?\s*{key.name}\s*=", shipped, re.M), f"[{section}] {key.name} not in settings.toml"
            assert f"| `[{section}]` | `{key.name}` |" in readme, f"[{section}] {key.name} not in README"
    for key in (*GENRE_KEYS, *CATEGORY_KEYS):
        assert re.search(rf"^#?\s*{key.name}\s*=", shipped, re.M), f"{key.name} not in settings.toml"
    for key in UNIT_KEYS:
        assert f"| `[[units]]` | `{key.name}` |" in readme
    # The table is generated (python -m core.settings): defaults and descriptions cannot drift.
    assert markdown_table() in readme


def test_each_section_has_a_typed_class_with_the_schema_keys() -> None:
    """The schema is the one list of keys: each section's class has exactly those fields, in order."""
    assert set(SECTION_CLASSES) == set(SCHEMA)
    for section, keys in SCHEMA.items():
        assert [f.name for f in fields(SECTION_CLASSES[section])] == [k.name for k in keys], section
    s = load_settings(REPO / "settings.toml")
    for section, cls in SECTION_CLASSES.items():
        value = getattr(s, section.replace(".", "_"))
        assert value is None or isinstance(value, cls), section


def test_relative_paths_resolve_against_the_settings_folder(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, MINIMAL))
    assert s.resolve(s.mailbox.path) == tmp_path / "mail"
    assert s.database_url == f"sqlite:///{tmp_path / 'var' / 'toasoan.db'}"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("[mailbox]\nbackend='maildir'\n", "[organization]"),
        (MINIMAL.replace('backend = "maildir"', 'backend = "pop3"'), "[mailbox] backend"),
        (MINIMAL + "\nport = 'x'\n", "[mailbox] port"),
        (MINIMAL + "\nfolderr = 'INBOX'\n", "[mailbox] folderr"),
        (MINIMAL.replace('backend = "maildir"', 'backend = "imap"'), "[mailbox] username"),
        (MINIMAL + "\n[smtp]\nhost='x'\n", "[smtp] sender"),
        (MINIMAL + "\n[[units]]\ncode='A'\nname='X'\nsenders=['no-at-sign']\n", "senders"),
        (MINIMAL + "\n[[units]]\ncode='A'\nname='X'\n[[units]]\ncode='a'\nname='Y'\n", "code"),
        ("units = 'A'\n" + MINIMAL, "[[units]]"),  # a value, not an array of tables
        ("categories = {slug = 'tin'}\n" + MINIMAL, "[[categories]]"),
        (MINIMAL + "\n[[units]]\ncode='A'\nname='X'\n[[units]]\ncode='B'\n", "[units #2] name"),
        (MINIMAL + "\n[[categories]]\nslug='tin'\nname='Tin'\ncolor='red'\n", "[categories #1] color"),
        (MINIMAL.replace("[organization]", "[organization]\ntimezone='Mars/Olympus'"), "[organization] timezone"),
        (MINIMAL + "\n[reportz]\nx=1\n", "[reportz]"),
        ("not = toml = at all", "TOML"),
        (MINIMAL + "\n[publish.static]\nimage_widths = ['480']\n", "[publish.static] image_widths"),
        (MINIMAL + "\n[publish.static]\nimage_widths = [true]\n", "[publish.static] image_widths"),
        (MINIMAL + "\n[publish.static]\nimage_widths = [0]\n", "[publish.static] image_widths"),
    ],
)
def test_mistakes_name_the_key(tmp_path: Path, text: str, names: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(write(tmp_path, text))
    assert names in str(err.value)
    assert "Lỗi cấu hình" in str(err.value) or "Tệp cấu hình" in str(err.value)
    # The halves apart: a page shows the Vietnamese alone, and it has no English in it.
    assert err.value.en and names in err.value.en and " / " not in err.value.vi
    assert err.value.vi.startswith(("Lỗi cấu hình", "Tệp cấu hình"))


def test_the_command_reports_a_bad_key_without_traceback(tmp_path: Path) -> None:
    bad = write(tmp_path, MINIMAL + "\nport = -5\n")
    r = subprocess.run(
        [sys.executable, "-m", "toasoan.cli", "--config", str(bad), "inbox", "list"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert r.returncode == 2
    assert "[mailbox] port" in r.stderr and "Traceback" not in r.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "toasoan.cli", "--config", str(tmp_path / "nope.toml"), "inbox", "list"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert missing.returncode == 2 and "not found" in missing.stderr and "Traceback" not in missing.stderr


def test_senders_map_to_units_by_address_then_domain(tmp_path: Path) -> None:
    text = (
        MINIMAL
        + """
[[units]]
code = "VP"
name = "Chi bộ Văn phòng"
senders = ["@vp.example"]
[[units]]
code = "CD"
name = "Công đoàn"
senders = ["congdoan@vp.example"]
"""
    )
    s = load_settings(write(tmp_path, text))
    assert s.unit_for_sender("An@VP.example").code == "VP"
    assert s.unit_for_sender("congdoan@vp.example").code == "CD"
    assert s.unit_for_sender("x@evil-vp.example") is None
    assert s.unit_for_sender("someone@gmail.com") is None


def test_secrets_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = load_settings(write(tmp_path, MINIMAL))
    monkeypatch.setenv("TOASOAN_IMAP_PASSWORD", "bí-mật")
    assert s.secret(s.mailbox.password_env) == "bí-mật"
    assert "bí-mật" not in (tmp_path / "settings.toml").read_text(encoding="utf-8")


def test_royalty_genres_and_categories(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, MINIMAL))
    assert (s.genres["tin"].max, s.genres["bai"].max) == (10, 30)  # the national frame by default
    s = load_settings(write(tmp_path, MINIMAL + "\n[royalty.genres.tin]\nmax = 2.5\n"))
    assert (s.genres["tin"].coefficient, s.genres["tin"].max) == (1, Decimal("2.5"))
    # Photos are a royalty genre paid per photo, not a kind of draft the review offers.
    assert "anh" in s.royalty_genres and s.royalty_genres["anh"].per_photo and "anh" not in s.genres
    for bad, where in [
        ("[royalty.genres.tin]\ncoefficient = 12\n", "[royalty.genres.tin]"),
        ("[royalty.genres.video]\ncoefficient = 1\nmax = 2\n", "[royalty.genres.video]"),
        ("[[categories]]\nslug = 'tin hoạt động'\nname = 'x'\n", "slug"),
    ]:
        with pytest.raises(SettingsError) as err:
            load_settings(write(tmp_path, MINIMAL + "\n" + bad))
        assert where in str(err.value)


def test_publish_targets_and_their_own_tables(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, MINIMAL))
    assert s.publish.targets == ["static"] and s.publish_static.path == "var/site"
    text = MINIMAL + (
        '\n[publish]\ntargets = ["static", "wordpress"]\n'
        '[publish.wordpress]\nurl = "http://127.0.0.1:8081"\nusername = "bbt"\n'
        'category_map = { "tin-hoat-dong" = "tin-tuc" }\n'
    )
    s = load_settings(write(tmp_path, text))
    assert s.publish_wordpress.category_map == {"tin-hoat-dong": "tin-tuc"}
    assert s.publish_wordpress.withdraw_as == "draft"
    for bad, where in [
        ('[publish]\ntargets = ["joomla"]\n', "[publish] targets"),
        ('[publish]\ntargets = ["wordpress"]\n', "[publish.wordpress]"),  # no url, no user
        ('[publish.static]\nroot = "x"\n', "[publish.static] root"),
        ('[publish.wordpress]\ncategory_map = { "a" = 1 }\n', "category_map"),
        ('[publish]\ndefault_section = "khong-co"\n[[categories]]\nslug = "tin"\nname = "Tin"\n', "default_section"),
    ]:
        with pytest.raises(SettingsError) as err:
            load_settings(write(tmp_path, MINIMAL + "\n" + bad))
        assert where in str(err.value)


def test_report_sections_default_and_validate(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, MINIMAL))
    assert (s.quota.tin_per_month, s.quota.bai_per_quarter) == (1, 1)
    assert (s.calendar.tally_day, s.calendar.payment_day, s.calendar.count_by) == (28, 5, "published")
    assert s.royalty.unit_value_percent == Decimal(10) and s.royalty.rounding == "1"
    assert [(str(r.start), r.amount) for r in s.royalty.base_salary] == [
        ("2024-07-01", Decimal(2340000)),
        ("2026-07-01", Decimal(2530000)),
    ]
    assert s.royalty.pit_enabled is False and s.royalty.pit_rate == Decimal(10)
    shipped = load_settings(REPO / "settings.toml")
    assert shipped.report.place and shipped.report.recipients and shipped.royalty_genres["anh"].label == "Ảnh"
    # A TOML date works as well as a string; a float percent stays exact.
    s = load_settings(
        write(
            tmp_path,
            MINIMAL + "\n[royalty]\nunit_value_percent = 12.5\nrounding = '1000'\n"
            "base_salary = [{from = 2026-07-01, amount = 2530000}]\n",
        )
    )
    assert s.royalty.unit_value_percent == Decimal("12.5") and s.royalty.base_salary[0].amount == 2530000
    for bad, where in [
        ("[calendar]\ntally_day = 32\n", "[calendar] tally_day"),
        ("[calendar]\ncount_by = 'received'\n", "[calendar] count_by"),
        ("[royalty]\nrounding = '0'\n", "[royalty] rounding"),
        ("[royalty]\nrounding = '1e3'\n", "[royalty] rounding"),
        ("[royalty]\nunit_value_percent = 0\n", "[royalty] unit_value_percent"),
        ("[royalty]\npit_rate = 101\n", "[royalty] pit_rate"),
        ("[royalty]\nbase_salary = []\n", "[royalty] base_salary"),
        ("[royalty]\nbase_salary = ['2024-07-01']\n", "[royalty] base_salary"),
        ("[royalty]\nbase_salary = [{from = '2024-13-01', amount = 1}]\n", "base_salary #1"),
        ("[royalty]\nbase_salary = [{from = '2024-07-01', amount = 1.5}]\n", "base_salary #1"),
        (
            "[royalty]\nbase_salary = [{from = '2026-07-01', amount = 2}, {from = '2024-07-01', amount = 1}]\n",
            "[royalty] base_salary",
        ),
        ("[royalty]\nbonus = 1\n", "[royalty] bonus"),
        ("[report]\nrecipients = 'Ban Thường vụ'\n", "[report] recipients"),
        ("[quota]\ntin_per_month = -1\n", "[quota] tin_per_month"),
    ]:
        with pytest.raises(SettingsError) as err:
            load_settings(write(tmp_path, MINIMAL + "\n" + bad))
        assert where in str(err.value), (bad, str(err.value))


def test_image_widths_are_sorted_once_each(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, MINIMAL + "\n[publish.static]\nimage_widths = [800, 480, 800]\n"))
    assert s.publish_static.image_widths == [480, 800]
    assert load_settings(write(tmp_path, MINIMAL)).publish_static.image_widths == [480, 800]
