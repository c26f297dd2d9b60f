from disputes.models import Case


def test_case_file_opens_case_with_history(open_case, buyer):
    assert open_case.state == Case.State.OPEN
    row = open_case.history.get()
    assert row.history_user == buyer
    assert row.history_change_reason == "Case filed by the buyer"
