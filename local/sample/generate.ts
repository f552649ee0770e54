/**
 * A small dataset in databricks-dolly-15k-ja's schema (index, instruction, input, output, category), made here so
 * a fresh clone can run the pipeline with no download. Deterministic: the same call gives the same bytes. It
 * includes what real data has and the pipeline must handle: records with and without `input` (only in the
 * closed_qa, information_extraction and summarization categories, as in dolly-15k-ja), a character outside the
 * Basic Multilingual Plane, an exact duplicate, an empty output, and a record over the 1,500-character limit.
 */
const TOPICS = [
  ['富士山', '日本で最も高い山で、標高は3,776メートルです。'],
  ['東京タワー', '1958年に完成した高さ333メートルの電波塔です。'],
  ['新幹線', '1964年に東海道新幹線が開業した高速鉄道です。'],
  ['俳句', '五・七・五の十七音からなる日本の短い詩です。'],
  ['茶道', '湯を沸かし茶を点てて客をもてなす日本の伝統文化です。'],
  ['桜', '春に咲く花で、花見の習慣とともに親しまれています。'],
  ['寿司', '酢飯と魚介類などを組み合わせた日本料理です。'],
  ['京都', '794年から千年以上にわたり都が置かれた古都です。'],
  ['光合成', '植物が光のエネルギーを使って二酸化炭素と水から糖を作る働きです。'],
  ['火山', '地下のマグマが地表に噴き出してできる地形です。'],
  ['量子コンピュータ', '量子ビットの重ね合わせを利用して計算するコンピュータです。'],
  ['図書館', '本や資料を集めて保存し、人々に貸し出す施設です。'],
  ['マラソン', '42.195キロメートルを走る陸上競技です。'],
  ['将棋', '二人で駒を動かし相手の玉将を詰ませる盤上遊戯です。'],
  ['温泉', '地中から湧き出る温かい水で、入浴や療養に利用されます。'],
  ['月', '地球の周りを約27.3日で公転する衛星です。'],
] as const;

const CATEGORIES = [
  'open_qa',
  'general_qa',
  'classification',
  'closed_qa',
  'brainstorming',
  'information_extraction',
  'summarization',
  'creative_writing',
] as const;

export interface DollyRecord {
  index: string;
  instruction: string;
  input: string;
  output: string;
  category: string;
}

export function generateSampleRecords(count = 400): DollyRecord[] {
  const records: DollyRecord[] = [];
  for (let i = 0; i < count; i++) {
    const [topic, fact] = TOPICS[i % TOPICS.length]!;
    const category = CATEGORIES[(i * 5 + Math.floor(i / TOPICS.length)) % CATEGORIES.length]!;
    const n = Math.floor(i / TOPICS.length) + 1;
    let instruction: string;
    let input = '';
    let output: string;
    switch (category) {
      case 'closed_qa':
        instruction = `${topic}とは何ですか？（設問${n}）`;
        input = `${topic}について：${fact}多くの人に知られています。`;
        output = fact;
        break;
      case 'information_extraction':
        instruction = `次の文章から${topic}に関する数字や年を抜き出してください。（${n}）`;
        input = `${fact}これは参考文献${n}による説明です。`;
        output = (fact.match(/[0-9０-９.,]+/g) ?? ['数字はありません']).join('、');
        break;
      case 'summarization':
        instruction = `${topic}についての文章を一文で要約してください。（${n}）`;
        input = `${fact}${topic}は日本でも広く知られており、多くの本や記事で紹介されています。第${n}版の解説です。`;
        output = `${topic}は、${fact.replace(/です。$/, '')}として知られています。`;
        break;
      case 'classification':
        instruction = `${topic}は自然のものですか、人が作ったものですか？（${n}）`;
        output = /山|桜|光合成|火山|温泉|月/.test(topic) ? '自然のもの' : '人が作ったもの';
        break;
      case 'brainstorming':
        instruction = `${topic}を楽しむ方法を三つ挙げてください。（${n}）`;
        output = `1. ${topic}について本で調べる\n2. ${topic}に詳しい人の話を聞く\n3. 実際に${topic}を体験する`;
        break;
      case 'creative_writing':
        instruction = `${topic}を題材にした短い物語を書いてください。（${n}）`;
        output = `ある日、少年は${topic}に出会いました。${fact}少年はその日のことを、ずっと忘れませんでした。`;
        break;
      case 'general_qa':
        instruction = `${topic}の魅力は何だと思いますか？（${n}）`;
        output = `${topic}の魅力は、${fact.replace(/です。$/, '')}という点にあります。`;
        break;
      default:
        instruction = `${topic}について教えてください。（${n}）`;
        output = fact;
    }
    records.push({ index: String(i), instruction, input, output, category });
  }
  // What real data holds and the pipeline must handle:
  if (count >= 10) {
    records[3] = { ...records[3]!, output: `${records[3]!.output} 𠮷野家の「𠮷」は基本多言語面の外の文字です。` };
    records[5] = { ...records[5]!, output: '' };
    records[7] = { ...records[7]!, output: '長い回答です。'.repeat(230) };
    records.push({ ...records[1]!, index: String(count) });
  }
  return records;
}

export function sampleJsonl(count?: number): string {
  return (
    generateSampleRecords(count)
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n'
  );
}

/** A document of a continued pre-training corpus, in the Japanese Wikipedia corpus's schema (id, title, text). */
export interface CorpusRecord {
  id: string;
  title: string;
  text: string;
}

/**
 * A small corpus of long Japanese documents in the schema of a Japanese Wikipedia corpus (id, title, text), for
 * continued pre-training where no real corpus is at hand. Deterministic. Each document is several paragraphs
 * (about 330-450 code points), several times a dolly answer: what makes a model pre-trained on it answer at length
 * (docs/bedrock-emulator.md).
 */
export function generateCorpusRecords(count = 200): CorpusRecord[] {
  const records: CorpusRecord[] = [];
  for (let i = 0; i < count; i++) {
    const [topic, fact] = TOPICS[i % TOPICS.length]!;
    const [other, otherFact] = TOPICS[(i * 7 + 3) % TOPICS.length]!;
    const n = Math.floor(i / TOPICS.length) + 1;
    const paragraphs = [
      `${topic}（第${n}稿）は、${fact}`,
      `歴史の上では、${topic}は長い時間をかけて人々の暮らしに根づいてきた。各地の記録には${topic}に関する記述が数多く残されており、` +
        `研究者によってその起源や広がりが調べられている。地域ごとに異なる呼び名や習慣があることも知られている。`,
      `${topic}は${other}とも比べられることがある。${otherFact}両者はまったく異なるものであるが、どちらも日本の文化や自然を語るうえで欠かせない題材である。`,
      `現代においても${topic}への関心は高く、書籍や雑誌、放送などで繰り返し取り上げられている。教育の場でも${topic}は扱われ、` +
        `子どもたちが実際に体験したり調べたりする機会が設けられている。`.repeat(1 + (i % 3)),
      `関連項目：${topic}の歴史、${topic}と地域社会、${other}。`,
    ];
    records.push({ id: `sample-${i}`, title: topic, text: paragraphs.join('\n') });
  }
  return records;
}

export function sampleCorpusJsonl(count?: number): string {
  return (
    generateCorpusRecords(count)
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n'
  );
}
