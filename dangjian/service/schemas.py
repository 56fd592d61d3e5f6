"""Request and response models of the HTTP API (``/api/v1``): the public shape, separate from the
library's dataclasses so the OpenAPI schema is complete and stable."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..index.search import MAX_QUERY_CHARS

MAX_K = 50
SectionRole = Literal[
    "完成情况", "主要做法", "成效", "特色亮点", "存在问题", "原因", "工作谋划", "经验启示", "基本情况"
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    code: str = Field(description="机器可读的错误代码，如 query_too_long")
    message: str = Field(description="中文说明：哪里不对、怎么改")


class ErrorResponse(BaseModel):
    error: ErrorBody


class SearchFilters(Strict):
    doc_ids: list[str] | None = Field(None, max_length=1000, description="只在这些文档中查找")
    types: list[str] | None = Field(None, max_length=100, description="文档类型，如 工作总结、经验材料")
    years: list[int] | None = Field(None, max_length=100, description="年份")
    roles: list[SectionRole] | None = Field(
        None, max_length=20, description="章节作用，如 完成情况、存在问题、工作谋划"
    )


class AskRequest(Strict):
    question: str = Field(min_length=1, max_length=MAX_QUERY_CHARS, description="问题")
    k: int | None = Field(None, ge=1, le=MAX_K, description="参考多少个段落（默认 DANGJIAN_TOP_K）")
    collections: list[str] | None = Field(None, max_length=100, description="只在这些知识库中查找")
    filters: SearchFilters | None = None
    conversation_id: str | None = Field(
        None, max_length=100, description="对话编号（上一次回答返回的 conversation_id）：追问时带上，按前文理解问题"
    )


class Passage(BaseModel):
    """A ranked passage: a verbatim slice of its document with where it comes from."""

    rank: int
    score: float
    passage_id: str
    doc_id: str
    title: str
    collection: str
    section_path: list[str] = Field(description="章节路径，如 [三、…, （二）…, 一是…]")
    quote: str = Field(description="原文，逐字等于 document.text[start:end]")
    start: int
    end: int
    page: int | None
    page_end: int | None
    paragraph: int = Field(description="起始自然段序号（从 1 起）")
    highlights: list[tuple[int, int]] = Field(description="quote 中与问题词语匹配的区间 [start, end)")
    citation: str = Field(description="格式化出处：《标题》三、… > （二）…，第N段")


class Citation(BaseModel):
    """One sentence of the answer, quoted verbatim, and the passage it comes from."""

    marker: int = Field(description="答案中的 [n] 标记")
    rank: int = Field(description="所在段落在 passages 中的名次")
    score: float
    passage_id: str
    doc_id: str
    title: str
    section_path: list[str]
    quote: str
    start: int = Field(description="在原文中的起始偏移")
    end: int
    page: int | None
    highlights: list[tuple[int, int]]
    citation: str


class MethodSource(BaseModel):
    """Where a card's field comes from: a sentence of a document, verbatim."""

    doc_id: str
    title: str
    section_path: list[str]
    quote: str = Field(description="原句，逐字等于 document.text[start:end]")
    start: int
    end: int
    citation: str


class MethodComponent(BaseModel):
    text: str = Field(description="组成部分，如“组织联建”，逐字等于 document.text[start:end]")
    doc_id: str
    start: int
    end: int


class MethodDocument(BaseModel):
    doc_id: str
    title: str
    year: int | None
    collection: str


class MethodCard(BaseModel):
    """A named working method, mechanism or brand (工作法、机制、品牌…) with its sources."""

    name: str
    aliases: list[str] = Field(description="文中的简称，如“十联工作法”“十联”")
    kind: str = Field(description="工作法、机制、理念、模式、工程、平台、活动、专区、提法或品牌")
    group: str = Field(description="列表中的分组：同 kind；三会一课、学习强国等为“通用制度”“通用平台”，不算工作法")
    generic: bool = Field(description="是通用的制度或平台，而不是某地自己的工作法")
    weight: int = Field(description="文中讲了多少：组成部分×3 + 文档数×2 + 提及次数 + 成效句数；列表按它从大到小")
    count: int | None = Field(description="名称中的数目，如十联 → 10")
    components: list[MethodComponent] = Field(description="文中逐项列出的组成部分，按原文顺序")
    count_note: str = Field(description="组成部分是否与名称中的数目相符")
    definition: MethodSource = Field(description="列出组成部分的句子，否则为首次提到的句子")
    mentions: list[MethodSource]
    documents: list[MethodDocument] = Field(description="提到它的文档（应用于何处、何年）")
    results: list[MethodSource] = Field(description="提到它的句子前后讲成效的句子（荣获、提升到、满意度……）")
    problems: list[MethodSource] = Field(description="讲它要解决的问题的句子（解决……问题、破解……难题）")
    places: list[MethodComponent] = Field(description="提到它的句子中的单位（社区、街道、小区、商圈……）")


class CheckedSentence(BaseModel):
    text: str = Field(description="大模型写的一句话（含 [n] 标记）")
    markers: list[int]
    supported: bool = Field(description="所标注的段落是否支持这句话；不支持的句子在答案中标有【未核实】")


class DraftRequest(Strict):
    topic: str = Field(min_length=1, max_length=200, description="材料题目，如“2023年社区党建工作总结”")
    template: str | None = Field(None, max_length=20, description="年度工作总结（默认）、经验材料或汇报提纲")
    outline: list[str] | None = Field(None, max_length=30, description="自己的提纲：标题列表（给了就不用模板）")
    collections: list[str] | None = Field(None, max_length=100, description="只用这些知识库中的文档")
    per_section: int = Field(3, ge=1, le=10, description="每部分最多几段素材")
    year: int | None = Field(None, ge=1900, le=2100, description="材料所讲的年份（默认取题目中的年份）")


class DraftParagraph(BaseModel):
    text: str = Field(description="原文段落，逐字摘录")
    marker: int = Field(description="出处编号 [n]，见 references")


class DraftSection(BaseModel):
    heading: str
    paragraphs: list[DraftParagraph]
    prose: str | None = Field(None, description="大模型改写的正文（配置了大模型时）；不受素材支持的句子标有【未核实】")
    sentences: list[CheckedSentence] = Field(default_factory=list, description="改写正文的逐句核对结果")
    note: str | None = Field(None, description="素材不完全对应时的说明（如用了上一年的计划），或大模型未能改写的原因")
    spare: list[DraftSpare] = Field(default_factory=list, description="备选段落：可换入本部分")


class DraftReference(BaseModel):
    marker: int
    doc_id: str
    title: str
    section_path: list[str]
    quote: str = Field(description="逐字等于 document.text[start:end]")
    start: int
    end: int
    page: int | None
    citation: str


class DraftResponse(BaseModel):
    title: str
    sections: list[DraftSection]
    references: list[DraftReference]


class DraftSpare(BaseModel):
    text: str
    reference: DraftReference


class ExportParagraph(Strict):
    text: str = Field(max_length=20000)
    marker: int | None = Field(None, description="references 中的出处编号")
    reference: DraftReference | None = Field(None, description="换入的备选段落带着自己的出处")


class ExportSection(Strict):
    heading: str = Field(max_length=200)
    note: str | None = Field(None, max_length=500)
    paragraphs: list[ExportParagraph] = Field(max_length=50)


class ExportDraft(Strict):
    title: str = Field(max_length=200)
    sections: list[ExportSection] = Field(max_length=30)
    references: list[DraftReference] = Field(default_factory=list, max_length=500)


class DraftExport(Strict):
    draft: ExportDraft
    format: Literal["docx", "md"] = "docx"


class QuizAnswer(Strict):
    answer: str = Field(max_length=500, description="标准答案")
    given: str = Field(max_length=500, description="作答")


class QuizVerdict(BaseModel):
    correct: bool = Field(description="作答与标准答案规范化后是否相同")


class QuizRequest(Strict):
    topic: str = Field("", max_length=MAX_QUERY_CHARS, description="主题：工作法名称或相关词语（默认全部）")
    n: int = Field(10, ge=1, le=100, description="题目数量")
    seed: int = Field(0, ge=0, le=2**31, description="随机种子：相同的种子出相同的题")
    collections: list[str] | None = Field(None, max_length=100, description="只用这些知识库中的文档")


class QuizQuestion(BaseModel):
    number: int
    kind: str = Field(
        description="fill_blank（填空）、choose_method（选工作法）、true_false（判断）或 what_problem（解决什么问题）"
    )
    question: str
    options: list[str]
    answer: str
    evidence: str = Field(description="决定答案的原文词句，逐字出现在 source.quote 中")
    method: str = Field(description="题目所考的工作法")
    source: MethodSource


class AskResponse(BaseModel):
    question: str
    answer: str = Field(description="摘录式答案：原文句子，每句带 [n] 出处标记；拒答时是说明")
    layout: str = Field("text", description="text：连续的句子；list：首行说明，其后每行一项（章节的各部分）")
    citations: list[Citation]
    passages: list[Passage] = Field(description="参考段落；因没有写明所问事实而拒答时，是相关段落")
    abstained: bool
    missing: str | None = Field(None, description="拒答原因之一：相关段落没有写明的内容，如“具体数字”")
    method: MethodCard | None = Field(None, description="问题提到的工作法的卡片（先于段落显示）")
    generated: bool = Field(False, description="答案由大模型根据段落写成（配置了 DANGJIAN_LLM_* 时）")
    sentences: list[CheckedSentence] = Field(default_factory=list, description="大模型答案的逐句核对结果")
    fallback: str | None = Field(None, description="配置了大模型但未能使用时的说明（超时、出错）")
    took_ms: float
    conversation_id: str = Field(
        description="对话编号：追问时在请求中带上；给的编号无效、过期或不属于本密钥时是新对话的编号"
    )
    resolved: str | None = Field(None, description="按前文理解的问题（与所问文字不同时），页面显示为“已理解为：……”")


class ConversationCitation(BaseModel):
    """One citation of a stored answer, as it was given (a later re-index does not change it)."""

    marker: int = Field(description="答案中的 [n] 标记")
    passage_id: str
    doc_id: str
    title: str
    section_path: list[str]
    quote: str = Field(description="当时的原文（逐字）")
    start: int
    end: int
    page: int | None
    citation: str


class ConversationTurn(BaseModel):
    question: str
    resolved: str | None = Field(description="按前文理解的问题（与所问文字相同时为空）")
    answer: str
    layout: str = Field(description="text 或 list，同 AskResponse.layout")
    citations: list[ConversationCitation]
    abstained: bool


class Conversation(BaseModel):
    id: str
    created: str = Field(description="创建时间（ISO 8601，UTC）")
    updated: str = Field(description="最后一次提问的时间（ISO 8601，UTC）")
    turns: list[ConversationTurn]


class ConversationSummary(BaseModel):
    id: str
    question: str = Field(description="第一个问题")
    updated: str
    turns: int


class ConversationList(BaseModel):
    conversations: list[ConversationSummary]


class SearchResponse(BaseModel):
    query: str
    hits: list[Passage]
    abstained: bool
    missing: str | None = None
    related: list[Passage] = Field(default_factory=list, description="因没有写明所问事实而拒答时的相关段落")
    method: MethodCard | None = Field(None, description="问题提到的工作法的卡片（先于段落显示）")
    took_ms: float


class Health(BaseModel):
    status: str
    index_version: str | None
    documents: int
    passages: int
    collections: dict[str, int] = Field(description="各知识库的文档数")
    embedder: dict[str, Any]


class Me(BaseModel):
    """Who the request's key is: the page shows it as the sign-in state."""

    signed_in: bool = Field(description="请求带了有效的 API 密钥")
    key_id: str | None
    role: str = Field(description="reader、cite、editor 或 admin；不带密钥时为 reader")
    collections: list[str] | None = Field(description="可见的知识库；为空表示全部")
    can_write: bool


class DocumentSummary(BaseModel):
    doc_id: str
    title: str
    collection: str
    type: str | None
    year: int | None
    file_type: str
    source: str | None = Field(description="原文件名（不含服务器路径）；匿名读取时不显示")
    passages: int = Field(0, description="段落数")
    added_on: str | None = Field(None, description="加入知识库的日期（YYYY-MM-DD）；早于记录日期的索引为空")


class DocumentList(BaseModel):
    total: int
    offset: int
    limit: int
    documents: list[DocumentSummary]


class SectionOut(BaseModel):
    heading: str
    path: list[str]
    depth: int
    start: int
    end: int


class DocumentDetail(DocumentSummary):
    metadata: dict[str, Any]
    sections: list[SectionOut]
    text: str


class SkippedFile(BaseModel):
    path: str
    code: str
    reason: str


class DuplicateFile(BaseModel):
    source: str
    duplicate_of: str
    doc_id: str


class FileResult(BaseModel):
    name: str = Field(description="文件名（批量文件中的一条记录写作 文件名#L行号）")
    status: str = Field(
        description="added 新增、updated 更新、unchanged 未变化、duplicate 重复、skipped 跳过、failed 失败"
    )
    reason: str = Field("", description="跳过、失败或重复的原因")
    doc_id: str | None = None


class IngestResult(BaseModel):
    """What an upload, delete or re-ingest did (the same report as ``dangjian ingest --json``)."""

    index_dir: str
    version: str
    files: int
    added: list[str]
    replaced: list[str]
    unchanged: list[str]
    removed: list[str]
    duplicates: list[DuplicateFile]
    skipped: list[SkippedFile]
    sections: int
    passages: int
    total_documents: int
    total_passages: int
    elapsed_s: float
    results: list[FileResult] = Field(default_factory=list, description="每个文件的结果")


class Job(BaseModel):
    """A background write (upload or re-ingest): its state, progress and each file's result."""

    id: str
    kind: str = Field(description="upload 上传、reingest 重新导入")
    collection: str
    state: str = Field(description="queued 排队中、running 进行中、done 完成、failed 失败")
    stage: str | None = Field(None, description="parse 解析文件、embed 向量化段落、write 写入新版本")
    done: int = Field(description="当前阶段已完成的数量")
    total: int = Field(description="当前阶段的总数")
    eta_s: float | None = Field(None, description="当前阶段预计还需的秒数（尚无法估计时为空）")
    files: list[FileResult]
    error: str | None = None
    report: IngestResult | None = Field(None, description="完成后：与同步导入相同的摘要")
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None


class JobAccepted(BaseModel):
    job: Job


class JobList(BaseModel):
    jobs: list[Job]


class CollectionIn(Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[^/\\]+$", description="知识库名，如 内部资料")
    description: str = Field("", max_length=500)


class Collection(BaseModel):
    name: str
    description: str
    documents: int
