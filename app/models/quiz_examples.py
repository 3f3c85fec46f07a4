"""An attempt as a learner receives it before submitting: one question of each kind, no correctness data.
Shown in OpenAPI (AttemptPublic's example) and described in docs/learning.md."""

_Q = "00000000-0000-4000-8000-0000000000"

ATTEMPT_EXAMPLE = {
    "id": "5b1d2c3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e", "quiz_id": "0e9d8c7b-6a59-4483-9271-605f4e3d2c1b",
    "number": 1, "started_at": "2026-12-03T02:00:00Z", "deadline": "2026-12-03T02:20:00Z",
    "submitted_at": None, "score": None, "passed": None, "answers": [],
    "questions": [
        {"id": _Q + "01", "kind": "description", "text_format": "plain", "blank": False, "points": 1,
         "prompt": "Phần 2: An toàn thông tin.", "choices": [], "options": []},
        {"id": _Q + "02", "kind": "single", "text_format": "html", "blank": True, "points": 1,
         "prompt": 'Mã OTP chỉ dùng để <span class="hocso-blank" data-blank="1">_____</span> giao dịch.',
         "choices": [{"id": _Q + "a1", "text": "xác nhận"}, {"id": _Q + "a2", "text": "chia sẻ"}],
         "options": []},
        {"id": _Q + "03", "kind": "multiple", "text_format": "plain", "blank": False, "points": 1,
         "prompt": "Dấu hiệu lừa đảo?", "choices": [{"id": _Q + "b1", "text": "Chuyển tiền gấp"},
                                                   {"id": _Q + "b2", "text": "Đường link lạ"}], "options": []},
        {"id": _Q + "04", "kind": "true_false", "text_format": "plain", "blank": False, "points": 1,
         "prompt": "Nên đọc mã OTP cho người lạ.",
         "choices": [{"id": _Q + "c1", "text": "Đúng"}, {"id": _Q + "c2", "text": "Sai"}], "options": []},
        {"id": _Q + "05", "kind": "short_answer", "text_format": "plain", "blank": False, "points": 1,
         "prompt": "Ứng dụng định danh điện tử quốc gia?", "choices": [], "options": []},
        {"id": _Q + "06", "kind": "numerical", "text_format": "plain", "blank": False, "points": 1,
         "prompt": "Số pi (3 chữ số thập phân)?", "choices": [], "options": []},
        {"id": _Q + "07", "kind": "matching", "text_format": "plain", "blank": False, "points": 1,
         "prompt": "Ghép dịch vụ với cơ quan.",
         "choices": [{"id": _Q + "d1", "text": "Căn cước"}, {"id": _Q + "d2", "text": "Thuế"},
                     {"id": _Q + "d3", "text": "Bảo hiểm xã hội"}],
         "options": [{"id": "9f8e7d6c-…", "text": "BHXH Việt Nam"}, {"id": "1a2b3c4d-…", "text": "Bộ Công an"},
                     {"id": "5e6f7a8b-…", "text": "Bộ Tài chính"}]},
        {"id": _Q + "08", "kind": "essay", "text_format": "html", "blank": False, "points": 1,
         "prompt": "<p>Hãy nêu ba cách bảo vệ tài khoản của bạn.</p>", "choices": [], "options": []},
    ],
}
