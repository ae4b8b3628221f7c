"""Reading ERP book stock as Excel writes it: separators, header, figures, bad rows."""

import codecs

import pytest

from protocols.book_stock import (
    BadRow,
    BookLine,
    BookStockError,
    decode_book,
    parse_book_stock,
)


def test_an_excel_csv_with_bom_semicolons_extra_column_and_decimals_is_read() -> None:
    # Given what a German Excel saves: BOM, `;`, CRLF, a header in its own case, an extra
    # column (with the separator quoted inside it), "5.0" and an empty row
    data = (
        "\ufeffSKU;Warehouse;Qty;Description\r\n"
        'SKU-1;DC-EAST;5.0;"Schraube; groß"\r\n'
        ";;;\r\n"
        "SKU-2;DC-WEST;12;\r\n"
    ).encode()
    # When decoded and parsed
    text, encoding = decode_book(data)
    book = parse_book_stock(text)
    # Then both rows are read, with no blocked column stated
    assert encoding == "utf-8"
    assert book.lines == (BookLine("SKU-1", "DC-EAST", 5), BookLine("SKU-2", "DC-WEST", 12))
    assert (book.bad_rows, book.separator, book.states_blocked) == ((), ";", False)


def test_columns_are_found_by_name_in_any_order_with_an_optional_blocked() -> None:
    # Given a comma file whose columns are in another order, with blocked figures
    text = "Blocked,QTY,warehouse,sku\n2,10,DC-EAST,SKU-1\n,4,DC-EAST,SKU-2\n"
    # When parsed
    book = parse_book_stock(text)
    # Then each figure comes from its named column; an empty blocked cell is 0
    assert book.lines == (BookLine("SKU-1", "DC-EAST", 10, 2), BookLine("SKU-2", "DC-EAST", 4))
    assert (book.separator, book.states_blocked) == (",", True)


def test_excels_sep_line_names_the_separator() -> None:
    # Given Excel's `sep=` hint before the header
    text = "sep=;\nsku;warehouse;qty\nSKU-1;DC-EAST;3\n"
    # When parsed, Then the hinted separator is used
    assert parse_book_stock(text).lines == (BookLine("SKU-1", "DC-EAST", 3),)
    assert parse_book_stock("SEP=\t\nsku\twarehouse\tqty\n").separator == "\t"


def test_bad_rows_are_listed_with_their_line_and_the_rest_is_read() -> None:
    # Given one good row among bad ones; a quoted cell spans lines 3 and 4
    text = (
        "sku,warehouse,qty,note\n"
        "SKU-1,DC-EAST,-3\n"
        'SKU-2,DC-EAST,5.5,"two\nlines"\n'
        "SKU-3,DC-EAST,1.000\n"
        "SKU-4,DC-EAST,many\n"
        "SKU-5,DC-EAST\n"
        "SKU 6,DC-EAST,1\n"
        "SKU-7,dc-east,1\n"
        "SKU-8,DC-EAST,\n"
        "SKU-9,DC-EAST,7\n"
        "SKU-9,DC-EAST,8\n"
        "SKU-10,DC-EAST,9999999999\n"
    )
    # When parsed
    book = parse_book_stock(text)
    # Then every bad row names its line and reason, and the good row is kept
    assert book.lines == (BookLine("SKU-9", "DC-EAST", 7),)
    assert book.bad_rows == (
        BadRow(2, "qty '-3' is not a whole number >= 0"),
        BadRow(3, "qty '5.5' is not a whole number >= 0"),
        BadRow(5, "qty '1.000' is ambiguous (thousands separator or decimals?)"),
        BadRow(6, "qty 'many' is not a whole number >= 0"),
        BadRow(7, "expected at least 3 fields, got 2"),
        BadRow(8, "'SKU 6' is not a valid SKU"),
        BadRow(9, "'dc-east' is not a valid warehouse code"),
        BadRow(10, "qty '' is not a whole number >= 0"),
        BadRow(12, "SKU-9 in DC-EAST already given on line 11"),
        BadRow(13, "qty '9999999999' is over 1000000000"),
    )


def test_control_characters_of_a_cell_are_escaped_in_its_reason() -> None:
    # Given a SKU cell carrying a terminal escape and a right-to-left override
    text = "sku,warehouse,qty\nSKU\x1b[2J\u202e,DC-EAST,1\n"
    # When parsed
    (bad,) = parse_book_stock(text).bad_rows
    # Then the reason shows them escaped, never raw
    assert bad.reason == "'SKU\\x1b[2J\\u202e' is not a valid SKU"
    assert bad.reason.isprintable()


def test_a_long_cell_is_cut_in_its_reason() -> None:
    text = "sku,warehouse,qty\n" + "S" * 500 + ",DC-EAST,1\n"
    (bad,) = parse_book_stock(text).bad_rows
    assert bad.reason == f"'{'S' * 40}…' is not a valid SKU"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no header: the file has no rows"),
        ("\n;;;\n", "no header: the file has no rows"),
        ("SKU-1,DC-EAST,3\n", "line 1: no header naming sku, warehouse and qty"),
        ("\nsku|warehouse|qty\n", "line 2: no header naming sku, warehouse and qty"),
        ("sku,warehouse,qty,QTY\n", "line 1: the header names qty twice"),
    ],
)
def test_a_file_without_a_recognisable_header_is_refused(text: str, message: str) -> None:
    # Given a file whose first row does not name the columns
    # When parsed, Then it is refused as a whole, saying why
    with pytest.raises(BookStockError, match=message):
        parse_book_stock(text)


def test_a_windows_1252_file_is_read_as_windows_1252() -> None:
    # Given Excel's plain "CSV" on Western Windows: not UTF-8 because of an "é"
    data = "sku,warehouse,qty,description\nSKU-1,DC-EAST,4,café\n".encode("windows-1252")
    # When decoded
    text, encoding = decode_book(data)
    # Then it is read as Windows-1252 and its rows as usual
    assert encoding == "windows-1252"
    assert parse_book_stock(text).lines == (BookLine("SKU-1", "DC-EAST", 4),)
    # And so is one with a UTF-8 BOM but Windows-1252 after it, header intact
    text, encoding = decode_book(codecs.BOM_UTF8 + data)
    assert (encoding, parse_book_stock(text).lines) == (
        "windows-1252",
        (BookLine("SKU-1", "DC-EAST", 4),),
    )


def test_excels_unicode_text_is_read() -> None:
    # Given Excel's "Unicode Text": UTF-16 with its BOM, tab-separated
    data = "SKU\tWarehouse\tQty\r\nSKU-1\tDC-EAST\t7\r\n".encode("utf-16")
    # When decoded and parsed
    text, encoding = decode_book(data)
    book = parse_book_stock(text)
    # Then the row is read
    assert (encoding, book.separator) == ("utf-16", "\t")
    assert book.lines == (BookLine("SKU-1", "DC-EAST", 7),)


def test_progress_is_reported_every_thousand_lines() -> None:
    # Given 2,500 rows
    text = "sku,warehouse,qty\n" + "".join(f"SKU-{n},DC-EAST,1\n" for n in range(2500))
    seen: list[int] = []
    # When parsed with a progress callback
    parse_book_stock(text, seen.append)
    # Then it hears of the lines reached, every thousand
    assert seen == [1000, 2000]
