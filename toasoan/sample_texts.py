"""The Vietnamese texts of the sample submissions that `make run` seeds (see toasoan/samples.py).

Everything here is fictional and written for this project: units, people and events. The units are
those of settings.toml [[units]]. Texts may hold placeholders filled per run from the email's date,
so that the news stays plausible whenever the samples are seeded:

    {ngay}     day of the event, "9/7"            {nam}      year of the event
    {quy}      previous quarter, "II"             {nam_quy}  year of that quarter
    {gio_hop}  time of the meeting in the invitation ("14 giờ 00, thứ Năm, ngày 18/7/2024")

In article bodies a paragraph starting with "## " is a sub-heading (bold in the Word file).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Article:
    """A contributor's Word file, as written: title, optional sa-pô, body, optional photo, byline."""

    title: str
    body: tuple[str, ...]
    byline: str
    lead: str | None = None
    caption: str | None = None  # the caption line under the photo, when the file carries one
    photo_after: int = 0  # body paragraphs before the photo


# --- 01 Chi bộ Văn phòng Tỉnh ủy: sinh hoạt chuyên đề (tin, photo in the file) ----------------------
VP_SINH_HOAT = Article(
    title="Chi bộ Văn phòng Tỉnh ủy sinh hoạt chuyên đề về trách nhiệm nêu gương của đảng viên",
    lead=(
        "Ngày {ngay}, Chi bộ Văn phòng Tỉnh ủy tổ chức sinh hoạt chuyên đề “Nâng cao tinh thần trách nhiệm, "
        "ý thức nêu gương của đảng viên trong công tác tham mưu, phục vụ”. Đồng chí Lê Văn Hùng, Bí thư "
        "Chi bộ chủ trì buổi sinh hoạt."
    ),
    body=(
        "Buổi sinh hoạt có 32/34 đảng viên tham dự; 2 đồng chí vắng có lý do vì đi công tác. Thực hiện "
        "hướng dẫn của Đảng ủy các cơ quan Đảng tỉnh, nội dung chuyên đề được Chi ủy gửi trước để đảng viên "
        "nghiên cứu, các tổ đảng thảo luận và đăng ký ý kiến phát biểu.",
        "Đồng chí Nguyễn Thị Thu Hà, Phó Bí thư Chi bộ trình bày chuyên đề, làm rõ yêu cầu nêu gương theo "
        "Quy định số 08-QĐi/TW của Ban Chấp hành Trung ương gắn với đặc thù công việc của Văn phòng: tham "
        "mưu đúng, trúng, kịp thời; phục vụ chu đáo, an toàn; giữ gìn bí mật nhà nước. Chuyên đề ghi nhận "
        "nhiều đảng viên sẵn sàng làm việc ngoài giờ để phục vụ các hội nghị của Tỉnh ủy, đồng thời thẳng "
        "thắn chỉ ra hạn chế như có văn bản tham mưu còn chậm, phải chỉnh sửa nhiều lần.",
        "Trong phần thảo luận, 9 ý kiến phát biểu tập trung vào các giải pháp cụ thể: mỗi đảng viên đăng ký "
        "ít nhất một việc làm nêu gương gắn với vị trí việc làm; rà soát quy trình tiếp nhận, xử lý văn bản "
        "để rút ngắn thời gian; đẩy mạnh sử dụng văn bản điện tử trong trao đổi công việc nội bộ.",
        "Kết luận buổi sinh hoạt, đồng chí Lê Văn Hùng ghi nhận tinh thần thẳng thắn, cầu thị của đảng viên; "
        "đề nghị các tổ đảng đưa nội dung đã đăng ký vào chương trình công tác hằng tháng và đánh giá kết "
        "quả thực hiện tại các kỳ sinh hoạt chi bộ thường kỳ.",
    ),
    caption="Ảnh: Đồng chí Nguyễn Thị Thu Hà trình bày chuyên đề tại buổi sinh hoạt.",
    photo_after=1,
    byline="Tin, ảnh: Trần Minh Khoa – Chi bộ Văn phòng Tỉnh ủy",
)

# --- 02 Chi bộ Ban Tuyên giáo và Dân vận: học tập chuyên đề Chỉ thị 05 (tin, photo beside) ----------
TGDV_CHI_THI_05 = Article(
    title="Chi bộ Ban Tuyên giáo và Dân vận học tập chuyên đề năm {nam} thực hiện Chỉ thị 05-CT/TW",
    body=(
        "Sáng {ngay}, Chi bộ Ban Tuyên giáo và Dân vận Tỉnh ủy tổ chức hội nghị học tập, quán triệt chuyên "
        "đề năm {nam} về đẩy mạnh học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh theo Chỉ thị "
        "số 05-CT/TW ngày 15/5/2016 và Kết luận số 01-KL/TW ngày 18/5/2021 của Bộ Chính trị. Tham dự hội "
        "nghị có 27 đảng viên của Chi bộ.",
        "Tại hội nghị, đồng chí Phạm Văn Đức, Bí thư Chi bộ đã truyền đạt những nội dung cốt lõi của chuyên "
        "đề: ý nghĩa của việc học tập và làm theo Bác trong giai đoạn hiện nay; những phẩm chất đạo đức cách "
        "mạng mà mỗi cán bộ, đảng viên cần rèn luyện như cần, kiệm, liêm, chính, chí công vô tư; phong cách "
        "gần dân, trọng dân, nói đi đôi với làm. Đồng chí nhấn mạnh, đối với cán bộ làm công tác tuyên giáo "
        "và dân vận, làm theo Bác trước hết là nắm chắc tình hình tư tưởng của cán bộ, đảng viên và nhân dân, "
        "kịp thời tham mưu cấp ủy giải quyết những vấn đề bức xúc ngay từ cơ sở.",
        "Sau hội nghị, mỗi đảng viên viết bài thu hoạch và xây dựng kế hoạch làm theo của cá nhân, gắn với "
        "nhiệm vụ chuyên môn được giao. Chi bộ sẽ đưa kết quả thực hiện vào tiêu chí đánh giá, xếp loại chất "
        "lượng đảng viên cuối năm.",
    ),
    byline="Thu Hương (Chi bộ Ban Tuyên giáo và Dân vận)",
)

# --- 03 Chi bộ Ban Tổ chức: kết nạp đảng viên (tin, Heading style, photo in the file) ---------------
TC_KET_NAP = Article(
    title="Chi bộ Ban Tổ chức kết nạp đảng viên mới",
    lead=(
        "Sáng {ngay}, Chi bộ Ban Tổ chức Tỉnh ủy long trọng tổ chức Lễ kết nạp đảng viên mới cho quần chúng "
        "Đỗ Thị Kim Ngân, chuyên viên Phòng Tổ chức cán bộ."
    ),
    body=(
        "Dự buổi lễ có đồng chí Trương Công Định, Phó Bí thư Đảng ủy các cơ quan Đảng tỉnh cùng toàn thể "
        "đảng viên trong Chi bộ.",
        "Buổi lễ được tổ chức trang nghiêm, đúng nghi thức theo quy định của Điều lệ Đảng. Sau phần chào cờ, "
        "Chi bộ công bố quyết định kết nạp đảng viên của Ban Thường vụ Đảng ủy các cơ quan Đảng tỉnh. Quần "
        "chúng Đỗ Thị Kim Ngân đọc lời tuyên thệ trước cờ Đảng, cờ Tổ quốc và ảnh Chủ tịch Hồ Chí Minh, hứa "
        "suốt đời phấn đấu cho mục đích, lý tưởng của Đảng, gương mẫu chấp hành chủ trương, đường lối của "
        "Đảng, chính sách, pháp luật của Nhà nước.",
        "Phát biểu tại buổi lễ, đồng chí Trương Công Định chúc mừng đảng viên mới, đề nghị đồng chí Ngân "
        "tiếp tục học tập, rèn luyện, phát huy tinh thần tuổi trẻ, hoàn thành tốt nhiệm vụ được giao để sớm "
        "được công nhận đảng viên chính thức. Đồng chí cũng đề nghị Chi bộ phân công đảng viên chính thức "
        "giúp đỡ đảng viên dự bị, quan tâm công tác tạo nguồn, bồi dưỡng quần chúng ưu tú để phát triển "
        "đảng viên trong thời gian tới.",
        "Đồng chí Đỗ Thị Kim Ngân sinh năm 1998, tốt nghiệp cử nhân Luật, về công tác tại Ban Tổ chức Tỉnh "
        "ủy từ năm 2021; trong quá trình công tác luôn hoàn thành tốt nhiệm vụ, tích cực tham gia các hoạt "
        "động của Đoàn Thanh niên cơ quan.",
    ),
    caption="Ảnh: Đồng chí Trương Công Định tặng hoa chúc mừng đảng viên mới Đỗ Thị Kim Ngân.",
    photo_after=2,
    byline="Tin, ảnh: Ngọc Anh",
)

# --- 04 Chi bộ Ủy ban Kiểm tra: sơ kết quý (tin, forwarded) ------------------------------------------
UBKT_SO_KET = Article(
    title="Chi bộ Ủy ban Kiểm tra sơ kết công tác kiểm tra, giám sát quý {quy} năm {nam_quy}",
    body=(
        "Chiều {ngay}, Chi bộ Ủy ban Kiểm tra Tỉnh ủy tổ chức hội nghị sơ kết công tác kiểm tra, giám sát "
        "quý {quy} năm {nam_quy} và triển khai nhiệm vụ thời gian tới. Đồng chí Võ Thanh Tùng, Bí thư Chi bộ "
        "chủ trì hội nghị.",
        "Theo báo cáo, trong quý, Chi bộ đã lãnh đạo đảng viên tham mưu Ủy ban Kiểm tra Tỉnh ủy hoàn thành "
        "4 cuộc giám sát chuyên đề, 2 cuộc kiểm tra tổ chức đảng cấp dưới khi có dấu hiệu vi phạm và giải "
        "quyết dứt điểm 5 đơn thư thuộc thẩm quyền. Các cuộc kiểm tra, giám sát được tiến hành đúng quy "
        "trình, kết luận rõ ưu điểm, hạn chế và kiến nghị khắc phục cụ thể. Chi bộ duy trì nghiêm chế độ "
        "sinh hoạt, tự phê bình và phê bình; đảng viên gương mẫu, giữ vững nguyên tắc trong thực thi nhiệm vụ.",
        "Hội nghị cũng chỉ ra một số hạn chế cần khắc phục như tiến độ giải quyết một số đơn thư còn kéo dài "
        "do nội dung phức tạp, việc theo dõi, đôn đốc khắc phục sau kiểm tra có lúc chưa thường xuyên.",
        "Trong quý tới, Chi bộ đề ra 5 nhiệm vụ trọng tâm, trong đó chú trọng nâng cao chất lượng tham mưu "
        "các cuộc giám sát thường xuyên, tăng cường ứng dụng phần mềm quản lý hồ sơ kiểm tra, giám sát và "
        "tiếp tục giáo dục đảng viên giữ vững bản lĩnh, liêm chính, khách quan trong công tác.",
    ),
    byline="Bích Ngọc – Chi bộ Ủy ban Kiểm tra",
)

# --- 05 Chi bộ Ban Nội chính: bảo vệ nền tảng tư tưởng (bài, nghiên cứu – trao đổi) ------------------
NC_NEN_TANG = Article(
    title="Nhận diện và đấu tranh với những luận điệu xuyên tạc trên không gian mạng",
    lead=(
        "Bảo vệ nền tảng tư tưởng của Đảng không chỉ là nhiệm vụ của các cơ quan chuyên trách mà là trách "
        "nhiệm của mỗi cán bộ, đảng viên. Trên không gian mạng, nơi thông tin lan truyền chỉ trong vài giây, "
        "việc nhận diện đúng và phản bác kịp thời các luận điệu sai trái càng trở nên cấp thiết."
    ),
    body=(
        "Thời gian qua, cùng với sự phát triển mạnh mẽ của Internet và mạng xã hội, các thế lực thù địch, "
        "phần tử cơ hội chính trị đã triệt để lợi dụng không gian mạng để tán phát thông tin sai sự thật, "
        "xuyên tạc chủ trương, đường lối của Đảng, chính sách, pháp luật của Nhà nước. Nghị quyết số "
        "35-NQ/TW ngày 22/10/2018 của Bộ Chính trị về tăng cường bảo vệ nền tảng tư tưởng của Đảng, đấu "
        "tranh phản bác các quan điểm sai trái, thù địch trong tình hình mới đã xác định đây là nhiệm vụ "
        "quan trọng, thường xuyên, là trách nhiệm của cả hệ thống chính trị, trong đó cán bộ, đảng viên là "
        "lực lượng nòng cốt.",
        "## Những thủ đoạn không mới nhưng ngày càng tinh vi",
        "Quan sát các trang mạng xã hội có thể thấy, thủ đoạn phổ biến nhất vẫn là “cắt ghép” sự thật: lấy "
        "một vụ việc tiêu cực có thật ở một nơi rồi khái quát thành bản chất của cả chế độ. Mỗi khi một vụ án "
        "tham nhũng được đưa ra xét xử, lập tức xuất hiện những bài viết cho rằng tham nhũng là “do thể chế”, "
        "cố tình lờ đi thực tế rằng chính Đảng ta đã chủ động phát hiện, xử lý nghiêm minh, không có vùng "
        "cấm, không có ngoại lệ.",
        "Thủ đoạn thứ hai là khoác áo “phản biện”, “góp ý”. Những bài viết loại này thường mở đầu bằng lời "
        "lẽ ôn hòa, dẫn số liệu có vẻ khoa học, nhưng càng về sau càng dẫn dắt người đọc đến kết luận phủ "
        "nhận vai trò lãnh đạo của Đảng. Đối tượng mà chúng nhắm tới không chỉ là người dân mà cả cán bộ, "
        "đảng viên, nhất là những người trẻ, còn ít trải nghiệm thực tiễn.",
        "Thủ đoạn thứ ba, khó nhận biết nhất, là tin giả được trình bày như tin thật: giả mạo văn bản của cơ "
        "quan nhà nước, cắt ghép hình ảnh, video, thậm chí dùng công nghệ trí tuệ nhân tạo để tạo ra giọng "
        "nói, khuôn mặt của người có uy tín. Chỉ cần một cú nhấp “chia sẻ” thiếu cân nhắc, mỗi người dùng "
        "mạng có thể vô tình trở thành mắt xích trong chuỗi lan truyền thông tin độc hại.",
        "## Mỗi đảng viên là một “chiến sĩ” trên mặt trận tư tưởng",
        "Đấu tranh phản bác quan điểm sai trái không phải là việc riêng của cơ quan tuyên giáo hay lực lượng "
        "chuyên trách. Nếu mỗi đảng viên đều có bản lĩnh, hiểu biết và ý thức trách nhiệm thì đó là “lá "
        "chắn” vững chắc nhất trước mọi luận điệu xuyên tạc.",
        "Trước hết, mỗi đảng viên cần tự trang bị cho mình “bộ lọc” thông tin: đọc, xem từ các nguồn chính "
        "thống; kiểm chứng trước khi tin, suy nghĩ trước khi chia sẻ; không bình luận theo cảm tính, không "
        "tham gia các hội, nhóm có nội dung tiêu cực. Đối với cán bộ công tác trong lĩnh vực nội chính, đây "
        "còn là yêu cầu của kỷ luật phát ngôn và bảo vệ bí mật nhà nước.",
        "Thứ hai, khi gặp thông tin sai trái, cần phản bác bằng lý lẽ và bằng chứng, với thái độ bình tĩnh, "
        "khách quan. Một bình luận có dẫn chứng từ văn bản chính thức, số liệu được công bố công khai, hay "
        "đơn giản là kể lại việc mình chứng kiến ở cơ sở, nhiều khi có sức thuyết phục hơn những lời lẽ gay "
        "gắt.",
        "Thứ ba, và quan trọng nhất, là nêu gương bằng hành động. Luận điệu xuyên tạc chỉ có “đất sống” khi "
        "còn những biểu hiện suy thoái, “nói một đằng, làm một nẻo” trong một bộ phận cán bộ, đảng viên. Mỗi "
        "hồ sơ được giải quyết đúng hạn, mỗi ý kiến của người dân được lắng nghe, trả lời thấu đáo chính là "
        "câu trả lời thuyết phục nhất.",
        "## Từ thực tiễn một chi bộ",
        "Tại Chi bộ Ban Nội chính Tỉnh ủy, việc trao đổi tình hình tư tưởng, dư luận xã hội được đưa vào nội "
        "dung sinh hoạt chi bộ thường kỳ. Mỗi tháng, một đảng viên được phân công tổng hợp những thông tin "
        "nổi bật trên mạng xã hội liên quan đến lĩnh vực phòng, chống tham nhũng, tiêu cực và cải cách tư "
        "pháp để chi bộ cùng phân tích, thống nhất nhận thức. Đảng viên được hướng dẫn kỹ năng nhận diện tin "
        "giả, cách báo cáo nội dung vi phạm với quản trị nền tảng và thông tin kịp thời cho cơ quan chức năng.",
        "Nhờ vậy, khi trên mạng xuất hiện thông tin thất thiệt về một vụ việc đang được các cơ quan của tỉnh "
        "xem xét, đảng viên của Chi bộ đã chủ động cung cấp thông tin chính thức cho cơ quan báo chí, góp "
        "phần định hướng dư luận, không để tin đồn lan rộng.",
        "Bảo vệ nền tảng tư tưởng của Đảng là cuộc đấu tranh lâu dài, không có điểm dừng. Mỗi cán bộ, đảng "
        "viên cần thấm nhuần rằng giữ vững trận địa tư tưởng không chỉ ở hội trường hay trên trang báo, mà ở "
        "ngay trong từng trang mạng cá nhân, từng lời nói, việc làm hằng ngày của chính mình.",
    ),
    byline="ThS. Đặng Quốc Bảo – Chi bộ Ban Nội chính Tỉnh ủy",
)

# --- 06 Chi bộ Báo và Phát thanh, Truyền hình: gương người tốt việc tốt (bài, photo in the file) -----
BCT_NGUOI_TOT = Article(
    title="Thầy giáo “không chuyên” của những đứa trẻ nghèo",
    lead=(
        "Ban ngày là kỹ thuật viên bảo đảm tín hiệu phát sóng, buổi tối anh Nguyễn Văn Tâm lại trở thành "
        "“thầy giáo” của hơn hai mươi em học sinh có hoàn cảnh khó khăn. Lớp học miễn phí của anh đã duy trì "
        "suốt mười lăm năm qua."
    ),
    body=(
        "Bảy giờ tối, căn nhà cấp bốn của anh Tâm ở khu phố 3 đã sáng đèn. Quanh chiếc bàn dài ghép từ những "
        "tấm ván cũ, hai mươi ba em học sinh từ lớp 2 đến lớp 9 ngồi ngay ngắn, em làm bài toán, em luyện "
        "viết chính tả. Anh Tâm đi một vòng, cúi xuống chỉ cho từng em, giọng nhỏ nhẹ, kiên nhẫn.",
        "## Từ một lần sang nhà hàng xóm",
        "Anh Nguyễn Văn Tâm năm nay 52 tuổi, có gần 30 năm gắn bó với công việc kỹ thuật truyền dẫn, phát "
        "sóng tại Báo và Phát thanh, Truyền hình tỉnh. Công việc đòi hỏi sự tỉ mỉ, chính xác; có những đêm "
        "anh phải trực đến sáng để bảo đảm tín hiệu thông suốt trong các sự kiện chính trị quan trọng của tỉnh. "
        "Khi tỉnh đầu tư hệ thống phát sóng số, anh là một trong những người đầu tiên tự học, nắm vững thiết "
        "bị mới rồi hướng dẫn lại cho các kỹ thuật viên trẻ. Đồng nghiệp quý anh vì tính cẩn thận, chịu khó, "
        "việc gì khó anh cũng nhận về mình.",
        "Lớp học bắt đầu từ một lần tình cờ. Mười lăm năm trước, anh sang nhà hàng xóm sửa giúp chiếc ti vi "
        "và thấy cậu con trai nhà bên ngồi khóc bên quyển vở vì không giải được bài toán. Cha mẹ em đi làm "
        "thuê đến tối mịt, không có ai kèm cặp. Anh ngồi lại giảng giúp; hôm sau, em dẫn thêm hai bạn cùng "
        "xóm sang hỏi bài. Cứ thế, lớp học nhỏ ra đời.",
        "Không có bằng sư phạm, anh Tâm tự mua sách giáo khoa, tìm hiểu chương trình từng khối lớp, có khi "
        "nhờ cả con gái đang học đại học hướng dẫn thêm cách dạy. Anh không thu bất cứ khoản tiền nào; vở, "
        "bút cho các em phần lớn do vợ chồng anh dành dụm mua, sau này có thêm sự hỗ trợ của đồng nghiệp "
        "trong cơ quan.",
        "Lớp học mở từ thứ Hai đến thứ Sáu, mỗi buổi hai tiếng. Những hôm phải trực đêm ở trạm phát sóng, "
        "anh nhờ vợ, một giáo viên mầm non đã nghỉ hưu, trông lớp, kiểm tra bài vở cho các em. Mùa thi, lớp "
        "học kéo dài đến chín, mười giờ tối; em nào nhà xa, anh lại chở về tận ngõ.",
        "## Những “học trò” trưởng thành",
        "Mười lăm năm qua, đã có hơn hai trăm lượt học sinh theo học lớp của anh Tâm. Nhiều em từ học lực "
        "yếu đã vươn lên khá, giỏi; có em đỗ đại học, trở thành giáo viên, kỹ sư. Em Lê Thị Mỹ Duyên, một "
        "trong những học trò đầu tiên, nay là giáo viên tiểu học, vẫn thường về phụ anh dạy các em nhỏ vào "
        "dịp hè. “Nếu ngày ấy không có chú Tâm, chắc em đã nghỉ học từ lớp 6 để phụ mẹ bán hàng”, Duyên "
        "xúc động kể.",
        "Ngoài lớp học, anh Tâm còn sửa miễn phí ra-đi-ô, ti vi cũ cho người cao tuổi, gia đình chính sách "
        "trong khu phố. Với anh, chiếc ra-đi-ô không chỉ là đồ vật, mà là “người bạn” giúp các cụ nghe tin "
        "tức, theo dõi chương trình thời sự mỗi ngày.",
        "## Lan tỏa việc tốt",
        "Đồng chí Phan Thị Ngọc Lan, Bí thư Chi bộ Báo và Phát thanh, Truyền hình tỉnh cho biết: “Anh Tâm là "
        "đảng viên gương mẫu, nhiều năm liền hoàn thành xuất sắc nhiệm vụ. Việc làm của anh lặng lẽ nhưng bền "
        "bỉ, là tấm gương sinh động về học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh”. Từ "
        "tấm gương ấy, Chi đoàn cơ quan đã nhận phụ trách phong trào “Tủ sách cho em”, quyên góp được hơn "
        "500 đầu sách tặng lớp học.",
        "Năm ngoái, anh Tâm được Đảng ủy các cơ quan Đảng tỉnh tặng giấy khen vì có thành tích tiêu biểu "
        "trong học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh. Anh bảo, điều làm anh vui nhất "
        "không phải tấm giấy khen, mà là những tin nhắn báo điểm thi của học trò cũ gửi về mỗi mùa hè.",
        "Hỏi về dự định thời gian tới, anh Tâm cười hiền: “Còn sức thì còn dạy. Chỉ mong các cháu học hành "
        "đến nơi đến chốn, lớn lên sống tử tế”. Ánh đèn trong căn nhà nhỏ ở khu phố 3 vẫn sáng đều đặn mỗi "
        "tối, như một lời nhắn nhủ rằng việc tốt không cần lớn lao, chỉ cần xuất phát từ tấm lòng.",
    ),
    caption="Ảnh: Anh Nguyễn Văn Tâm hướng dẫn các em học sinh tại lớp học miễn phí.",
    photo_after=1,
    byline="Bài, ảnh: Huỳnh Thị Mai – Chi bộ Báo và Phát thanh, Truyền hình tỉnh",
)

# --- 07 Công đoàn cơ quan: two news items in one email ------------------------------------------------
CD_HIEN_MAU = Article(
    title="Đoàn viên Công đoàn cơ quan tham gia hiến máu tình nguyện",
    body=(
        "Hưởng ứng phong trào hiến máu tình nguyện do Ban Chỉ đạo vận động hiến máu tình nguyện tỉnh phát "
        "động, ngày {ngay}, Công đoàn cơ quan Văn phòng Tỉnh ủy phối hợp với Chi đoàn cơ quan và Bệnh viện "
        "Đa khoa tỉnh tổ chức cho đoàn viên, công chức, người lao động tham gia hiến máu tại hội trường cơ quan.",
        "Ngay từ sáng sớm, đông đảo đoàn viên đã có mặt, đăng ký, đo huyết áp và làm xét nghiệm trước khi "
        "hiến máu. Kết quả, có 46 đoàn viên đăng ký, 38 người đủ điều kiện hiến máu, thu được 38 đơn vị máu. "
        "Nhiều đồng chí đã hiến máu từ 5 lần trở lên, tiêu biểu là đồng chí Lý Văn Sang, lái xe cơ quan, "
        "với 14 lần hiến máu.",
        "Đồng chí Ngô Thị Phương Thảo, Chủ tịch Công đoàn cơ quan cho biết, hiến máu tình nguyện đã trở "
        "thành hoạt động thường niên của Công đoàn, thể hiện tinh thần tương thân tương ái “Một giọt máu cho "
        "đi, một cuộc đời ở lại”. Công đoàn sẽ tiếp tục vận động đoàn viên tham gia, góp phần bổ sung nguồn "
        "máu dự trữ phục vụ công tác cấp cứu, điều trị người bệnh.",
    ),
    byline="Phương Thảo",
)

CD_THAM_HOI = Article(
    title="Thăm hỏi, tặng quà đoàn viên có hoàn cảnh khó khăn và gia đình chính sách",
    body=(
        "Thực hiện chương trình chăm lo đời sống đoàn viên, vừa qua, Công đoàn cơ quan Văn phòng Tỉnh ủy đã "
        "đến thăm hỏi, tặng quà 6 đoàn viên có hoàn cảnh khó khăn và 4 gia đình chính sách, gia đình có công "
        "với cách mạng là thân nhân của đoàn viên trong cơ quan. Đoàn do đồng chí Ngô Thị Phương Thảo, Chủ "
        "tịch Công đoàn cơ quan làm trưởng đoàn.",
        "Tại nhà bà Huỳnh Thị Ba, mẹ của liệt sĩ Trần Văn Út, đoàn đã ân cần hỏi thăm sức khỏe, tình hình "
        "cuộc sống và bày tỏ lòng biết ơn đối với những hy sinh, mất mát của gia đình cho sự nghiệp giải "
        "phóng dân tộc. Đoàn cũng đến thăm gia đình đồng chí Châu Minh Trí, nhân viên phục vụ, có con đang "
        "điều trị bệnh hiểm nghèo, động viên gia đình vượt qua khó khăn.",
        "Mỗi suất quà trị giá 1.000.000 đồng, được trích từ quỹ xã hội của Công đoàn và sự đóng góp tự "
        "nguyện của đoàn viên. Dịp này, Công đoàn cũng phát động đoàn viên tiếp tục ủng hộ Quỹ “Mái ấm Công "
        "đoàn”, chung tay chăm lo cho đồng nghiệp có hoàn cảnh khó khăn. Những phần quà tuy không lớn nhưng "
        "thể hiện sự quan tâm, sẻ chia của tập thể cơ quan.",
    ),
    byline="Phương Thảo – Công đoàn cơ quan",
)

# --- 08 Đoàn Thanh niên: Ngày Chủ nhật xanh (tin, two photos beside) --------------------------------
DTN_CHU_NHAT_XANH = Article(
    title="Tuổi trẻ các cơ quan Đảng tỉnh ra quân “Ngày Chủ nhật xanh”",
    body=(
        "Sáng Chủ nhật {ngay}, Đoàn Thanh niên các cơ quan Đảng tỉnh tổ chức ra quân “Ngày Chủ nhật xanh” "
        "với chủ đề “Chung tay vì môi trường xanh – sạch – đẹp”. Tham gia có hơn 80 đoàn viên, thanh niên "
        "đến từ 8 chi đoàn trực thuộc.",
        "Các đoàn viên được chia thành 4 nhóm, thu gom rác thải, phát quang bụi rậm, khơi thông cống rãnh "
        "dọc tuyến đường vào khu dân cư và khuôn viên Nhà văn hóa khu phố; trồng mới 120 cây xanh và tặng "
        "200 túi vải thân thiện với môi trường cho người dân. Dù trời nắng nóng, không khí lao động diễn ra "
        "sôi nổi, khẩn trương, thể hiện tinh thần xung kích, tình nguyện của tuổi trẻ.",
        "Đồng chí Bùi Hoàng Phúc, Bí thư Đoàn Thanh niên các cơ quan Đảng tỉnh cho biết, đây là hoạt động "
        "trong chuỗi công trình, phần việc thanh niên của năm, nhằm nâng cao ý thức bảo vệ môi trường, hạn "
        "chế rác thải nhựa trong đoàn viên và nhân dân. Thời gian tới, các chi đoàn sẽ duy trì ra quân định "
        "kỳ mỗi tháng một lần, đồng thời nhận chăm sóc tuyến đường đã trồng cây.",
        "Dịp này, Đoàn Thanh niên các cơ quan Đảng tỉnh trao 10 suất quà, mỗi suất trị giá 500.000 đồng, "
        "cho các em học sinh có hoàn cảnh khó khăn tại địa phương.",
    ),
    byline="Hoàng Phúc",
)

# --- 09 Ban Tuyên giáo và Dân vận, typed in .VnTime (TCVN3): no toned capital may start a word -------
TGDV_DAN_VAN_KHEO = Article(
    title="Sơ kết phong trào thi đua “Dân vận khéo” trong các cơ quan Đảng tỉnh",
    body=(
        "Chiều {ngay}, Ban Tuyên giáo và Dân vận Tỉnh ủy tổ chức hội nghị sơ kết phong trào thi đua “Dân vận "
        "khéo” trong các cơ quan Đảng tỉnh. Dự hội nghị có đại diện lãnh đạo các ban xây dựng Đảng, Văn "
        "phòng Tỉnh ủy cùng 45 đại biểu là điển hình “Dân vận khéo” các cấp.",
        "Theo báo cáo, phong trào thi đua “Dân vận khéo” tiếp tục được các chi bộ, cơ quan quan tâm lãnh "
        "đạo, gắn với việc thực hiện Chỉ thị số 05-CT/TW của Bộ Chính trị và nhiệm vụ chính trị của từng "
        "đơn vị. Trong kỳ, các cơ quan đã đăng ký 38 mô hình, điển hình “Dân vận khéo”, tập trung vào cải "
        "cách hành chính, nâng cao chất lượng tham mưu và tiếp dân, giải quyết đơn thư. Nhiều mô hình có "
        "cách làm hay như “Lắng nghe ý kiến đảng viên hưu trí”, “Hồ sơ đúng hạn, người dân hài lòng”.",
        "Phát biểu chỉ đạo hội nghị, đồng chí Trần Quốc Việt, Phó Trưởng Ban Tuyên giáo và Dân vận Tỉnh ủy "
        "đề nghị các cơ quan tiếp tục đổi mới nội dung, phương thức thực hiện phong trào; chú trọng phát "
        "hiện, nhân rộng các mô hình thiết thực, tránh hình thức; đẩy mạnh tuyên truyền các điển hình tiêu "
        "biểu trên Trang thông tin điện tử và các phương tiện thông tin đại chúng.",
        "Dịp này, Ban Tuyên giáo và Dân vận Tỉnh ủy tặng giấy khen cho 6 tập thể và 12 cá nhân có thành tích "
        "xuất sắc trong phong trào thi đua “Dân vận khéo”.",
    ),
    byline="Nguyễn Văn Hải",
)

# --- 10 Chi bộ Văn phòng (Gmail of the chi bộ): a news item typed straight into the email ------------
VP_BODY_ARTICLE = """Kính gửi Ban Biên tập,
Chi bộ Văn phòng Tỉnh ủy gửi tin dưới đây. Máy tính của em đang bảo hành nên em gõ trực tiếp vào thư, \
ảnh em gửi kèm ạ.

VĂN PHÒNG TỈNH ỦY TẬP HUẤN SỬ DỤNG HỆ THỐNG QUẢN LÝ VĂN BẢN VÀ ĐIỀU HÀNH

Ngày {ngay}, Văn phòng Tỉnh ủy tổ chức lớp tập huấn sử dụng Hệ thống quản lý văn bản và điều hành cho \
gần 60 cán bộ, công chức, nhân viên các phòng, đơn vị trực thuộc.

Tại lớp tập huấn, học viên được hướng dẫn quy trình tiếp nhận, xử lý, chuyển văn bản đến trên môi trường \
mạng; ký số văn bản đi bằng chữ ký số chuyên dùng; lập và theo dõi hồ sơ công việc; tra cứu, thống kê \
tình hình giải quyết văn bản. Ngoài phần lý thuyết, mỗi học viên được thực hành trực tiếp trên tài khoản \
của mình, trao đổi những vướng mắc phát sinh trong thực tế.

Phát biểu khai mạc, đồng chí Lê Văn Hùng, Phó Chánh Văn phòng Tỉnh ủy nhấn mạnh, sử dụng thành thạo hệ \
thống là yêu cầu bắt buộc đối với mỗi cán bộ, công chức, góp phần thực hiện mục tiêu chuyển đổi số trong \
các cơ quan Đảng, giảm văn bản giấy, rút ngắn thời gian xử lý công việc. Đồng chí đề nghị các phòng, đơn \
vị phân công người đầu mối hỗ trợ, bảo đảm đến cuối năm 100% văn bản không mật được gửi, nhận trên môi \
trường mạng.

Theo kế hoạch, sau đợt tập huấn này, Văn phòng Tỉnh ủy sẽ tiếp tục mở các lớp hướng dẫn cho cán bộ làm \
công tác văn thư của các cơ quan Đảng tỉnh.

Minh Khoa

--\x20
Trần Minh Khoa
Chi bộ Văn phòng Tỉnh ủy
"""

# --- 11 a sender that matches no unit: Chi hội Cựu chiến binh, from a personal Gmail ------------------
CCB_SINH_HOAT = Article(
    title="Chi hội Cựu chiến binh các cơ quan Đảng tỉnh sinh hoạt chuyên đề “Phát huy bản chất Bộ đội Cụ Hồ”",
    body=(
        "Ngày {ngay}, Chi hội Cựu chiến binh các cơ quan Đảng tỉnh tổ chức sinh hoạt chuyên đề “Phát huy bản "
        "chất Bộ đội Cụ Hồ, tham gia xây dựng Đảng, chính quyền trong sạch, vững mạnh”. Tham dự có 24 hội "
        "viên, trong đó nhiều đồng chí đã nghỉ hưu nhưng vẫn tích cực tham gia sinh hoạt.",
        "Tại buổi sinh hoạt, các hội viên ôn lại truyền thống vẻ vang của Quân đội nhân dân Việt Nam và Hội "
        "Cựu chiến binh Việt Nam; trao đổi kinh nghiệm giáo dục con cháu, tham gia góp ý xây dựng Đảng và "
        "giữ gìn trật tự, an toàn ở khu dân cư. Nhiều ý kiến mong muốn được cung cấp thêm thông tin thời sự "
        "để kịp thời định hướng, phản bác những thông tin sai trái trên mạng xã hội. Phát biểu tại buổi sinh "
        "hoạt, đồng chí Nguyễn Văn Bảy, Chi hội trưởng đề nghị mỗi hội viên tiếp tục giữ gìn phẩm chất người "
        "lính Cụ Hồ, gương mẫu ở nơi cư trú, tích cực tham gia các phong trào của địa phương.",
        "Dịp này, Chi hội trao tặng 2 sổ tiết kiệm, mỗi sổ trị giá 3.000.000 đồng, cho hội viên có hoàn cảnh "
        "khó khăn, được trích từ quỹ “Nghĩa tình đồng đội” do hội viên đóng góp.",
    ),
    byline="Nguyễn Văn Bảy – Chi hội Cựu chiến binh các cơ quan Đảng tỉnh",
)

# --- 12 the file that arrives broken (its text is never read; it still is a real article) -----------
BCT_BONG_DA = Article(
    title="Sôi nổi giải bóng đá mini các cơ quan Đảng tỉnh",
    body=(
        "Chiều {ngay}, tại sân bóng đá mini Nhà thi đấu tỉnh, Đoàn Thanh niên các cơ quan Đảng tỉnh phối hợp "
        "với Công đoàn các cơ quan khai mạc giải bóng đá mini năm {nam}. Tham gia giải có 8 đội bóng với "
        "gần 120 vận động viên là cán bộ, đoàn viên của các cơ quan.",
        "Các đội được chia thành 2 bảng, thi đấu vòng tròn tính điểm; hai đội dẫn đầu mỗi bảng vào bán kết. "
        "Ngay trận khai mạc, đội Báo và Phát thanh, Truyền hình tỉnh thắng đội Văn phòng Tỉnh ủy với tỉ số "
        "3–2 trong sự cổ vũ nhiệt tình của đông đảo khán giả.",
        "Giải đấu nhằm rèn luyện sức khỏe, tăng cường giao lưu, đoàn kết giữa cán bộ, đoàn viên các cơ quan; "
        "trận chung kết sẽ diễn ra vào cuối tuần sau. Ban Tổ chức sẽ trao giải nhất, nhì, ba và giải "
        "phong cách cho các đội, cùng giải cầu thủ ghi nhiều bàn thắng nhất và thủ môn xuất sắc nhất.",
    ),
    caption="Ảnh: Pha tranh bóng trong trận khai mạc.",
    photo_after=1,
    byline="Tin, ảnh: Minh Trí",
)

# --- cover notes (email bodies) ---------------------------------------------------------------------
NOTE_VP = """Kính gửi Ban Biên tập,

Chi bộ Văn phòng Tỉnh ủy gửi Ban Biên tập tin sinh hoạt chuyên đề của Chi bộ (file đính kèm, ảnh đã \
chèn trong file). Kính đề nghị Ban Biên tập xem xét, đăng tải.

Trân trọng!

Trần Minh Khoa
Chi ủy viên, Chi bộ Văn phòng Tỉnh ủy
Máy lẻ: 215
"""

NOTE_TGDV = """Dạ kính gửi Ban Biên tập,
Em là Hương ở Chi bộ Ban Tuyên giáo và Dân vận. Em gửi tin Chi bộ học tập chuyên đề Chỉ thị 05, ảnh em \
gửi kèm riêng ạ (Ảnh: Đồng chí Phạm Văn Đức quán triệt chuyên đề tại hội nghị).
Em cảm ơn anh chị!

--\x20
Lê Thị Thu Hương
Chi bộ Ban Tuyên giáo và Dân vận Tỉnh ủy
"""

NOTE_TC = """Kính gửi Ban Biên tập,

Chi bộ Ban Tổ chức gửi tin Lễ kết nạp đảng viên mới của Chi bộ, ảnh đã chèn trong file Word.

Trân trọng,
--\x20
Phạm Ngọc Anh
Chi bộ Ban Tổ chức Tỉnh ủy
"""

NOTE_UBKT_FORWARD = "Em chuyển Ban Biên tập tin của Chi bộ Ủy ban Kiểm tra, nhờ Ban xem giúp ạ.\n"
NOTE_UBKT_ORIGINAL = (
    "Anh Tùng ơi, em gửi anh tin sơ kết quý của Chi bộ, anh xem rồi chuyển Ban Biên tập giúp em nhé.\n"
    "Em cảm ơn anh.\n"
    "Bích Ngọc\n"
)

NOTE_NC = """Kính gửi Ban Biên tập Trang thông tin điện tử,

Tôi xin gửi bài viết tham gia chuyên mục “Bảo vệ nền tảng tư tưởng của Đảng”. Bài viết của cá nhân tôi, \
chưa gửi đăng ở nơi khác.
Rất mong nhận được ý kiến của Ban Biên tập.

Trân trọng!
Đặng Quốc Bảo
Chi bộ Ban Nội chính Tỉnh ủy
"""

NOTE_BCT = """Chào Ban Biên tập,

Mai gửi bài viết về gương người tốt, việc tốt ở cơ quan; bài và ảnh trong file Word đính kèm. Nếu cần \
sửa chỗ nào anh chị cứ báo Mai nhé.

Thân,
Huỳnh Thị Mai
"""

NOTE_CD = """Kính gửi Ban Biên tập,

Công đoàn cơ quan gửi 02 tin hoạt động trong tháng (02 file đính kèm) và ảnh buổi hiến máu.

Trân trọng!
Ngô Thị Phương Thảo
Chủ tịch Công đoàn cơ quan
"""

NOTE_DTN = """Kính gửi Ban Biên tập,
Đoàn Thanh niên các cơ quan Đảng tỉnh gửi tin ra quân “Ngày Chủ nhật xanh” và 02 ảnh hoạt động.
Trân trọng cảm ơn!

--\x20
Ban Thường vụ Đoàn Thanh niên các cơ quan Đảng tỉnh
"""

NOTE_LEGACY = """Kính gửi Ban Biên tập,

Ban Tuyên giáo và Dân vận gửi tin sơ kết phong trào thi đua “Dân vận khéo”.
File soạn bằng phông .VnTime, nếu lỗi phông đề nghị Ban Biên tập chuyển đổi giúp.

Nguyễn Văn Hải
Chuyên viên Ban Tuyên giáo và Dân vận Tỉnh ủy
"""

NOTE_CCB = """Kính gửi Ban Biên tập,

Tôi là Nguyễn Văn Bảy, Chi hội trưởng Chi hội Cựu chiến binh các cơ quan Đảng tỉnh. Chi hội gửi Ban \
Biên tập tin hoạt động để đăng trên Trang thông tin, mong Ban quan tâm.

Trân trọng.
Nguyễn Văn Bảy
"""

NOTE_BROKEN = """Chào Ban Biên tập,

Em gửi tin giải bóng đá mini các cơ quan Đảng tỉnh, ảnh em chèn trong file.
Cảm ơn Ban!

--\x20
Lý Minh Trí
Chi bộ Báo và Phát thanh, Truyền hình tỉnh
"""

NOTE_FORGOTTEN = "Em gửi bài ạ.\n\nGửi từ iPhone của tôi\n"

NOTE_INVITATION = """Kính gửi các đồng chí thành viên Ban Biên tập,

Văn phòng Tỉnh ủy trân trọng gửi Giấy mời họp Ban Biên tập Trang thông tin điện tử (file đính kèm).
Đề nghị các đồng chí sắp xếp thời gian dự họp đúng thành phần, đúng giờ.

Trân trọng!
Văn thư – Văn phòng Tỉnh ủy
"""

# --- the meeting invitation (a Word file, but not a submission) ---------------------------------------
INVITATION_HEADER = (("TỈNH ỦY", "ĐẢNG CỘNG SẢN VIỆT NAM"), ("VĂN PHÒNG", ""), ("*", ""))
INVITATION_NUMBER = "Số 125-GM/VPTU"
INVITATION_TITLE = "GIẤY MỜI"
INVITATION_SUBTITLE = "Họp Ban Biên tập Trang thông tin điện tử"
INVITATION_BODY = (
    "Văn phòng Tỉnh ủy trân trọng kính mời các đồng chí thành viên Ban Biên tập Trang thông tin điện tử dự họp.",
    "Nội dung: Đánh giá hoạt động của Trang thông tin điện tử; thống nhất quy trình tiếp nhận, biên tập "
    "tin, bài của cộng tác viên và việc chi trả nhuận bút.",
    "Thời gian: {gio_hop}.",
    "Địa điểm: Phòng họp số 2, Văn phòng Tỉnh ủy.",
    "Đề nghị các đồng chí dự họp đầy đủ, đúng giờ.",
)
INVITATION_SIGNATURE = ("K/T CHÁNH VĂN PHÒNG", "PHÓ CHÁNH VĂN PHÒNG", "", "", "Lê Văn Hùng")
