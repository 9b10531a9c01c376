"""Word lists the generator draws from: names, places, products, stores, channels.

Every list is a tuple so that it cannot be changed by accident; order matters because
draws index into it (changing a list changes the generated data for every seed).
"""

from __future__ import annotations

# (hanzi, pinyin) — the most common Chinese surnames.
CHINESE_SURNAMES: tuple[tuple[str, str], ...] = (
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("高", "gao"),
    ("林", "lin"),
    ("罗", "luo"),
    ("郑", "zheng"),
    ("梁", "liang"),
    ("谢", "xie"),
    ("宋", "song"),
    ("唐", "tang"),
    ("欧阳", "ouyang"),
    ("司马", "sima"),
)

CHINESE_GIVEN_FEMALE: tuple[tuple[str, str], ...] = (
    ("芳", "fang"),
    ("娜", "na"),
    ("秀英", "xiuying"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("艳", "yan"),
    ("娟", "juan"),
    ("霞", "xia"),
    ("秀兰", "xiulan"),
    ("桂英", "guiying"),
    ("婷", "ting"),
    ("雪", "xue"),
    ("慧", "hui"),
    ("晶", "jing"),
    ("梦琪", "mengqi"),
    ("欣怡", "xinyi"),
    ("诗涵", "shihan"),
)

CHINESE_GIVEN_MALE: tuple[tuple[str, str], ...] = (
    ("伟", "wei"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("杰", "jie"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("刚", "gang"),
    ("平", "ping"),
    ("辉", "hui"),
    ("鹏", "peng"),
    ("浩然", "haoran"),
    ("子轩", "zixuan"),
    ("宇航", "yuhang"),
    ("建国", "jianguo"),
)

# (display, ascii) — Latin first names by gender, with a few accented ones.
LATIN_FIRST_FEMALE: tuple[tuple[str, str], ...] = (
    ("Mary", "mary"),
    ("Emma", "emma"),
    ("Sophie", "sophie"),
    ("Olivia", "olivia"),
    ("Chloé", "chloe"),
    ("Zoë", "zoe"),
    ("Anna", "anna"),
    ("Laura", "laura"),
    ("Isabella", "isabella"),
    ("Mia", "mia"),
    ("Léa", "lea"),
    ("Grace", "grace"),
)

LATIN_FIRST_MALE: tuple[tuple[str, str], ...] = (
    ("James", "james"),
    ("Lucas", "lucas"),
    ("David", "david"),
    ("Michael", "michael"),
    ("José", "jose"),
    ("François", "francois"),
    ("Noah", "noah"),
    ("Liam", "liam"),
    ("Thomas", "thomas"),
    ("Daniel", "daniel"),
    ("Jörg", "joerg"),
    ("Ethan", "ethan"),
)

LATIN_LAST: tuple[tuple[str, str], ...] = (
    ("Smith", "smith"),
    ("Johnson", "johnson"),
    ("Brown", "brown"),
    ("García", "garcia"),
    ("Müller", "mueller"),
    ("Martin", "martin"),
    ("Dubois", "dubois"),
    ("Rossi", "rossi"),
    ("Wilson", "wilson"),
    ("O'Neil", "oneil"),
    ("Nguyen", "nguyen"),
    ("Kim", "kim"),
    ("Schmidt", "schmidt"),
    ("López", "lopez"),
    ("Taylor", "taylor"),
    ("Andersson", "andersson"),
)

# (display name used in most rows, alternative spelling used by some systems)
CITIES: tuple[tuple[str, str], ...] = (
    ("上海", "Shanghai"),
    ("北京", "Beijing"),
    ("广州", "Guangzhou"),
    ("深圳", "Shenzhen"),
    ("杭州", "Hangzhou"),
    ("成都", "Chengdu"),
    ("南京", "Nanjing"),
    ("武汉", "Wuhan"),
    ("西安", "Xi'an"),
    ("重庆", "Chongqing"),
    ("苏州", "Suzhou"),
    ("天津", "Tianjin"),
    ("长沙", "Changsha"),
    ("青岛", "Qingdao"),
    ("厦门", "Xiamen"),
    ("昆明", "Kunming"),
)
CITY_WEIGHTS: tuple[float, ...] = (
    18,
    14,
    9,
    10,
    8,
    7,
    6,
    5,
    4,
    5,
    4,
    3,
    2,
    2,
    2,
    1,
)

# Email domains with their popularity; qq.com addresses use a numeric local part.
EMAIL_DOMAINS: tuple[str, ...] = (
    "qq.com",
    "163.com",
    "126.com",
    "gmail.com",
    "outlook.com",
    "hotmail.com",
    "sina.com",
    "foxmail.com",
    "icloud.com",
)
EMAIL_DOMAIN_WEIGHTS: tuple[float, ...] = (30, 20, 8, 12, 8, 6, 6, 5, 5)

# Identifiers that many unrelated people type when a form insists (over-merge traps).
JUNK_EMAILS: tuple[str, ...] = ("test@test.com", "a@a.com", "noemail@noemail.com")
JUNK_PHONE: int = 13800000000

# Chinese mobile prefixes (first three digits); 138 first so the junk phone's prefix exists.
MOBILE_PREFIXES: tuple[int, ...] = (
    138,
    139,
    135,
    136,
    137,
    150,
    151,
    152,
    158,
    159,
    186,
    187,
    188,
    130,
    131,
    132,
    155,
    156,
    185,
    133,
    153,
    180,
    181,
    189,
    177,
    173,
    199,
    166,
)

# (sku number, name, category, price in cents) are built from these parts.
PRODUCT_LINES: tuple[tuple[str, str, int, int], ...] = (
    # (name stem, category, min price cents, max price cents)
    ("连衣裙", "apparel", 19900, 89900),
    ("T恤", "apparel", 5900, 19900),
    ("Denim Jacket", "apparel", 39900, 129900),
    ("运动鞋", "shoes", 29900, 109900),
    ("Leather Boots", "shoes", 59900, 199900),
    ("保湿面霜", "beauty", 8800, 59900),
    ("Lipstick", "beauty", 9900, 32000),
    ("蓝牙耳机", "electronics", 19900, 159900),
    ("Smart Watch", "electronics", 89900, 329900),
    ("保温杯", "home", 4900, 19900),
    ("Scented Candle", "home", 6900, 25900),
    ("婴儿湿巾", "baby", 2900, 8900),
    ("Backpack", "accessories", 15900, 69900),
    ("真丝围巾", "accessories", 12900, 49900),
)
PRODUCT_VARIANTS: tuple[str, ...] = (
    "",
    " 黑色",
    " 白色",
    " Red",
    " Blue",
    " XL",
    " M",
    " 经典款",
    " Limited Edition",
    " 2024新款",
    " Pro",
    " Mini",
)

SEARCH_TERMS: tuple[str, ...] = (
    "连衣裙",
    "sneakers",
    "耳机",
    "面霜",
    "gift",
    "boots",
    "保温杯",
    "backpack",
    "围巾",
    "watch",
    "T恤",
    "candle",
)

UTM_SOURCES: tuple[str, ...] = (
    "baidu",
    "google",
    "wechat",
    "weibo",
    "douyin",
    "xiaohongshu",
    "newsletter",
    "bilibili",
)

WEB_PAGES: tuple[tuple[str, str], ...] = (
    # (path, title)
    ("/", "Home"),
    ("/new-arrivals", "New arrivals"),
    ("/sale", "Sale"),
    ("/stores", "Store finder"),
    ("/about", "About us"),
    ("/category/apparel", "Apparel"),
    ("/category/beauty", "Beauty"),
    ("/category/electronics", "Electronics"),
    ("/help/shipping", "Shipping"),
    ("/account", "My account"),
)
WEB_HOST = "https://www.shop.example.cn"

APP_SCREENS: tuple[str, ...] = (
    "home",
    "category",
    "search",
    "cart",
    "profile",
    "orders",
)
APP_VERSIONS: tuple[str, ...] = ("5.2.1", "5.3.0", "5.4.2", "6.0.0", "6.1.3")

WECHAT_NICKNAMES: tuple[str, ...] = (
    "小明",
    "快乐的鱼",
    "Sunny",
    "阿杰",
    "小美",
    "风一样的男子",
    "Coco",
    "静静",
    "Leo",
    "momo",
    "大橙子",
    "Tina",
    "随遇而安",
    "一只猫",
    "Kevin",
    "糖糖",
)
EMOJIS: tuple[str, ...] = ("🌸", "😊", "🐱", "✨", "🍀", "🔥", "🌙", "💕")

STORE_COUNT = 48

CONSENT_SOURCES: dict[str, tuple[str, ...]] = {
    "email": ("web_preference_center", "unsubscribe_link", "crm_signup"),
    "sms": ("pos_form", "sms_reply_td", "crm_signup"),
    "wechat": ("wechat_menu", "wechat_follow"),
    "push": ("app_settings", "app_prompt"),
    "ads": ("web_cookie_banner", "app_settings"),
}
