use super::*;

fn body(seq: u64, status: u16, scenario: &str) -> String {
    format!(r#"{{"seq":{seq},"status":{status},"scenario":"{scenario}"}}"#)
}

#[test]
fn chains_continue_across_reopenings_and_reads_filter_and_page() {
    let dir = tempfile::tempdir().unwrap();
    let l = Ledger::open(dir.path()).unwrap();
    for seq in 1..=50 {
        let status = if seq % 5 == 0 { 503 } else { 200 };
        l.append("journal-a", seq, body(seq, status, "a"));
    }
    l.append("journal-a/hub", 1, body(1, 200, "b"));
    l.close();
    let l = Ledger::open(dir.path()).unwrap();
    assert_eq!(l.last_seq("journal-a"), 50);
    assert_eq!(l.last_seq("nobody"), 0);
    l.append("journal-a", 51, body(51, 200, "c"));
    l.flush();
    let page = l.read("journal-a", 40, 5, &[]).unwrap();
    assert_eq!(page.len(), 5);
    assert!(page[0].contains("\"seq\":41"));
    let failures = l
        .read("journal-a", 0, 100, &[("$.status", 503i64.into())])
        .unwrap();
    assert_eq!(failures.len(), 10);
    let of_c = l.read(
        "journal-a",
        0,
        100,
        &[("$.scenario", "c".to_string().into())],
    );
    assert_eq!(of_c.unwrap().len(), 1);
    let report = verify(dir.path()).unwrap();
    assert_eq!(report.journals.len(), 2);
    let a = report
        .journals
        .iter()
        .find(|j| j.journal == "journal-a")
        .unwrap();
    assert_eq!(a.entries, 51);
    assert!(report.broken().is_none(), "{report:?}");
}

fn tampered(sql: &str) -> Report {
    let dir = tempfile::tempdir().unwrap();
    let l = Ledger::open(dir.path()).unwrap();
    for seq in 1..=10 {
        l.append("journal-d", seq, body(seq, 200, "x"));
    }
    l.close();
    drop(l);
    Connection::open(dir.path().join(FILE))
        .unwrap()
        .execute_batch(sql)
        .unwrap();
    verify(dir.path()).unwrap()
}

#[test]
fn an_edited_a_deleted_or_a_relinked_entry_is_found() {
    let edited = tampered(r#"UPDATE entries SET body = '{"seq":4,"status":500}' WHERE seq = 4"#);
    let b = edited.broken().unwrap();
    assert_eq!(b.broken.as_ref().unwrap().0, 4);
    assert!(b.broken.as_ref().unwrap().1.contains("edited"));
    let deleted = tampered("DELETE FROM entries WHERE seq = 7");
    let (seq, why) = deleted.broken().unwrap().broken.clone().unwrap();
    assert_eq!(seq, 8);
    assert!(why.contains("entry 7 is missing"), "{why}");
    let first_gone = tampered("DELETE FROM entries WHERE seq = 1");
    assert!(first_gone.broken().is_some());
    let relinked = tampered("UPDATE entries SET prev = zeroblob(32) WHERE seq = 3");
    assert_eq!(relinked.broken().unwrap().broken.as_ref().unwrap().0, 3);
}

#[test]
fn an_empty_directory_is_no_journal() {
    let dir = tempfile::tempdir().unwrap();
    assert!(verify(dir.path()).unwrap_err().contains("no journal"));
}
