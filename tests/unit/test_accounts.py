"""Known-accounts directory: importing the account list from CSV, and who counts as known."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailbot.accounts import (
    AccountDirectory,
    AccountImportError,
    InvalidAddress,
    RejectedLine,
    StaticDirectory,
    normalise_address,
    parse_accounts_csv,
    read_accounts_csv,
)


def test_the_email_column_is_found_by_name_and_other_columns_are_ignored() -> None:
    result = read_accounts_csv(
        "id,Name,EMAIL,phone\n"
        "1,Anna Peeters,anna.peeters@example.org,0470 00 00 00\n"
        "2,Bert Claes,  Bert.Claes@Example.ORG ,\n"
    )
    assert result.addresses == ("anna.peeters@example.org", "bert.claes@example.org")
    assert result.rejected == ()


@pytest.mark.parametrize("heading", ["E-mail", "e_mail", "Email Address", "E-mailadres"])
def test_common_spellings_of_the_email_heading_are_accepted(heading: str) -> None:
    result = read_accounts_csv(f"naam,{heading}\nAnna,anna@example.org\n")
    assert result.addresses == ("anna@example.org",)


def test_a_belgian_excel_export_with_bom_and_semicolons_is_read() -> None:
    text = (
        "\ufeffNaam;E-mail;Gemeente\r\n"
        "Peeters, Anna;anna.peeters@example.org;Gent\r\n"
        '"Claes; Bert";"bert.claes@example.org";"Sint-Niklaas"\r\n'
    )
    result = read_accounts_csv(text)
    assert result.addresses == ("anna.peeters@example.org", "bert.claes@example.org")


def test_tab_separated_files_are_read() -> None:
    assert read_accounts_csv("name\temail\nAnna\tanna@example.org\n").addresses == (
        "anna@example.org",
    )


def test_files_are_read_from_disk_in_utf8_or_excel_ansi(tmp_path: Path) -> None:
    utf8 = tmp_path / "utf8.csv"
    utf8.write_bytes("\ufeffnaam;email\nZoë Dupré;zoe@example.org\n".encode())
    ansi = tmp_path / "ansi.csv"
    ansi.write_bytes("naam;email\nZoë Dupré;zoe@example.org\n".encode("cp1252"))
    assert read_accounts_csv(utf8).addresses == ("zoe@example.org",)
    assert read_accounts_csv(ansi).addresses == ("zoe@example.org",)


def test_a_file_name_passed_as_text_is_refused_with_a_hint() -> None:
    with pytest.raises(AccountImportError, match="Path"):
        read_accounts_csv("accounts.csv")


def test_uppercase_duplicates_are_imported_once_and_reported() -> None:
    result = read_accounts_csv(
        "email\nanna@example.org\nbert@example.org\nANNA@EXAMPLE.ORG\nanna@example.org\n"
    )
    assert result.addresses == ("anna@example.org", "bert@example.org")
    assert result.rejected == (
        RejectedLine(4, "duplicate of line 2"),
        RejectedLine(5, "duplicate of line 2"),
    )


def test_blank_lines_are_skipped_and_line_numbers_stay_those_of_the_file() -> None:
    result = read_accounts_csv("\nemail;name\n\nanna@example.org;Anna\n;;\n\nnot-an-address;X\n")
    assert result.addresses == ("anna@example.org",)
    assert [rejected.line for rejected in result.rejected] == [7]


def test_bad_addresses_are_reported_per_line_without_failing_the_import() -> None:
    text = (
        "name,email\n"
        "Anna,anna@example.org\n"
        "Bert,bert.example.org\n"
        "Carla,\n"
        'Dirk,"dirk@example.org, dirk@example.test"\n'
        "Eva,eva@localhost\n"
        "Frank\n"
        "Griet,griet peeters@example.org\n"
    )
    result = read_accounts_csv(text)
    assert result.addresses == ("anna@example.org",)
    assert [rejected.line for rejected in result.rejected] == [3, 4, 5, 6, 7, 8]
    for rejected in result.rejected:  # reasons can be logged: they never echo the address
        assert "example" not in rejected.reason


def test_a_quoted_display_name_form_is_accepted() -> None:
    result = read_accounts_csv('email\n"Anna Peeters <Anna.Peeters@example.org>"\n')
    assert result.addresses == ("anna.peeters@example.org",)


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("name,phone\nAnna,0470\n", 1, "no `email` column"),
        ("\n\nnaam;telefoon\n", 3, "no `email` column"),
        ("", 1, "empty"),
        ("email,e-mail\na@example.org,b@example.org\n", 1, "more than one e-mail column"),
        ('{"accounts": ["anna@example.org"]}\n', 1, "no `email` column"),
        ("PK\x03\x04\x14\x00\x00\x00", 1, "binary"),
        ('email\nanna@example.org\n"bert@example.org\ncarla@example.org\n', 3, "not valid CSV"),
    ],
    ids=[
        "no-email-column",
        "header-after-blanks",
        "empty",
        "two-email-columns",
        "json",
        "xlsx",
        "unterminated-quote",
    ],
)
def test_files_that_are_not_an_account_list_fail_naming_the_line(
    text: str, line: int, problem: str
) -> None:
    with pytest.raises(AccountImportError, match=problem) as raised:
        parse_accounts_csv(text)
    assert raised.value.line == line
    assert str(raised.value).startswith(f"line {line}:")


def test_known_accounts_are_matched_whatever_the_case() -> None:
    directory = StaticDirectory(["Anna.Peeters@Example.org", "bert@example.org"])
    assert directory.is_known("anna.peeters@example.org")
    assert directory.is_known(" ANNA.PEETERS@EXAMPLE.ORG ")
    assert not directory.is_known("carla@example.org")
    assert len(directory) == 2


def test_a_sub_address_is_not_the_same_account() -> None:
    directory = StaticDirectory(["anna@example.org"])
    assert not directory.is_known("anna+jaimy@example.org")
    assert not StaticDirectory(["anna+jaimy@example.org"]).is_known("anna@example.org")


def test_the_static_directory_is_an_account_directory_and_refuses_bad_addresses() -> None:
    assert isinstance(StaticDirectory([]), AccountDirectory)
    with pytest.raises(InvalidAddress):
        StaticDirectory(["not an address"])


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "anna",
        "anna@",
        "@example.org",
        "anna@example",
        "a@b@example.org",
        "anna@example..org",
        "anna@-example.org",
        "anna peeters@example.org",
    ],
)
def test_normalise_refuses_what_is_not_one_address(raw: str) -> None:
    with pytest.raises(InvalidAddress):
        normalise_address(raw)


_local = st.from_regex(r"[a-z0-9]{1,10}(?:[.+_-][a-z0-9]{1,8})?", fullmatch=True)
_domain = st.from_regex(r"[a-z0-9]{1,10}\.(?:example|test|org)", fullmatch=True)
_addresses = st.builds(lambda local, domain: f"{local}@{domain}", _local, _domain)


@given(
    st.lists(_addresses, min_size=1, max_size=12),
    st.sampled_from([",", ";", "\t"]),
    st.lists(st.booleans(), min_size=12, max_size=12),
)
def test_a_written_account_list_reads_back_once_each_in_order(
    addresses: list[str], delimiter: str, shout: list[bool]
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(["Naam", "E-mail"])
    for index, address in enumerate(addresses):
        writer.writerow([f"Persoon {index}", address.upper() if shout[index] else address])
    result = read_accounts_csv(out.getvalue())
    assert result.addresses == tuple(dict.fromkeys(addresses))
    assert len(result.rejected) == len(addresses) - len(set(addresses))
    directory = StaticDirectory(result.addresses)
    assert all(directory.is_known(address.upper()) for address in addresses)
